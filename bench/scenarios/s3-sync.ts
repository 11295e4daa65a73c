import { randomBytes } from 'node:crypto';
import { type BenchResult, result } from '../lib/result.js';
import { rgw } from '../lib/rgw.js';
import { type ServerChild, startQuireServer, withServer } from '../lib/servers.js';
import { percentile } from '../lib/setup.js';
import { confirmSamples } from './confirm-latency.js';
import { propagationSamples } from './propagation.js';
import { putAndGetSamples } from './s3-latency.js';

/** A Quire server whose commit log is on RGW, under a prefix of its own. */
async function s3Server(): Promise<ServerChild> {
  await rgw();
  return startQuireServer('todo', { s3Prefix: `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}/` });
}

/**
 * The confirm-latency loop with the server's commit log on RGW. Baseline: the
 * p50 of plain 4 KiB PUTs measured just before, in the same run; the goal is
 * the PUT plus 3 ms (a conditional PUT per commit and nothing else).
 */
export async function s3Confirm(iterations: number): Promise<BenchResult[]> {
  const putP50 = percentile((await putAndGetSamples(iterations)).put, 50);
  const samples = await withServer(s3Server, (server) => confirmSamples(server, iterations));
  return [result('confirm_s3_p50_ms', percentile(samples, 50), 'ms', putP50), result('confirm_s3_p99_ms', percentile(samples, 99), 'ms')];
}

/**
 * The propagation loop with the server's commit log on RGW. Baseline: the
 * same loop on the file log, measured just before, in the same run (commits
 * are broadcast before they are durable, so the store should not show).
 */
export async function s3Propagation(edits: number): Promise<BenchResult[]> {
  const fileLog = await withServer(startQuireServer, (server) => propagationSamples(server, edits));
  const s3 = await withServer(s3Server, (server) => propagationSamples(server, edits));
  return [result('propagation_s3_p50_ms', percentile(s3, 50), 'ms', percentile(fileLog, 50)), result('propagation_s3_p99_ms', percentile(s3, 99), 'ms', percentile(fileLog, 99))];
}
