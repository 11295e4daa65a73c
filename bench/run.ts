import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchResult } from './lib/result.js';
import { coldLoad } from './scenarios/cold-load.js';
import { confirmLatency } from './scenarios/confirm-latency.js';
import { coordinatorThroughput } from './scenarios/coordinator-throughput.js';
import { coordinatorAllCores } from './scenarios/coordinator-all-cores.js';
import { fanout } from './scenarios/fanout.js';
import { localApply } from './scenarios/local-apply.js';
import { logOpen } from './scenarios/log-open.js';
import { partialReplica } from './scenarios/partial-replica.js';
import { presenceLoad } from './scenarios/presence-load.js';
import { propagation } from './scenarios/propagation.js';
import { s3Latency } from './scenarios/s3-latency.js';
import { s3Confirm, s3Propagation } from './scenarios/s3-sync.js';
import { serverRssPerConn } from './scenarios/server-rss-per-conn.js';
import { serverRssPerDoc } from './scenarios/server-rss-per-doc.js';
import { scale } from './scenarios/scale.js';
import { wireBytes } from './scenarios/wire-bytes.js';

// `npm run bench -- --quick` and `pnpm bench --quick` pass through different
// numbers of `--` separators; they carry no meaning here.
const args = process.argv.slice(2).filter((arg) => arg !== '--');
const { values } = parseArgs({
  args,
  options: {
    quick: { type: 'boolean', default: false },
    // `--only partial` runs the scenarios whose label contains "partial".
    only: { type: 'string' },
  },
});
const quick = values.quick;
const log = (line: string) => process.stdout.write(`bench:   ${line}\n`);

const scenarios: Array<[string, () => Promise<BenchResult[]>]> = [
  ['local apply', () => localApply(quick ? 200 : 1000)],
  ['confirm latency', () => confirmLatency(quick ? 100 : 500)],
  ['presence', () => presenceLoad(quick ? 150 : 600, log)],
  ['propagation', () => propagation(quick ? 200 : 500)],
  ['wire bytes', () => wireBytes(quick ? 100 : 200)],
  ['coordinator throughput', () => coordinatorThroughput({ clients: 10, processes: 2, perClient: quick ? 200 : 1000, window: 8, log })],
  ['coordinator all cores', () => coordinatorAllCores({ documents: 100, processes: 2, perClient: quick ? 20 : 60, window: 8, log })],
  ['s3 latency', () => s3Latency(quick ? 100 : 300)],
  ['s3 confirm', () => s3Confirm(quick ? 100 : 300)],
  ['s3 propagation', () => s3Propagation(quick ? 200 : 500)],
  ['cold load', () => coldLoad(quick ? 4 : 12)],
  ['fanout', () => fanout({ clients: 1000, processes: 4, mutations: quick ? 5 : 20, log })],
  ['log open', () => logOpen(20, log)],
  ['server rss per doc', () => serverRssPerDoc(log)],
  ['server rss per conn', () => serverRssPerConn(log)],
  // --quick: 2,000 connections over 200 documents.
  ['scale 10k', () => scale({ connections: quick ? 2000 : 10_000, documents: quick ? 200 : 1000, processes: 4, rounds: quick ? 3 : 5, log })],
  [
    'partial replicas',
    () =>
      partialReplica({
        // --quick scales the large document down to 20 MB; the targets are for the full run.
        bigRows: quick ? 100_000 : 1_000_000,
        smallRows: 50_000,
        samples: quick ? 3 : 9,
        pointQueries: 1000,
        log,
      }),
  ],
];

const chosen = scenarios.filter(([label]) => !values.only || label.includes(values.only));
if (chosen.length === 0) {
  process.stderr.write(`bench: no scenario matches --only ${values.only}; scenarios: ${scenarios.map(([label]) => label).join(', ')}\n`);
  process.exit(2);
}

// The numbers mean little on a busy machine: say how busy it was.
const load = () => `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`;
process.stdout.write(`bench: ${quick ? 'quick run' : 'full run'}, ${load()}\n`);

const results: BenchResult[] = [];
const failed: string[] = [];
const began = performance.now();
for (const [label, run] of chosen) {
  const start = performance.now();
  process.stdout.write(`bench: ${label}…\n`);
  try {
    results.push(...(await run()));
  } catch (error) {
    // One broken scenario must not hide the others' numbers.
    failed.push(label);
    process.stderr.write(`bench: ${label} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.stdout.write(`bench:   (${label}: ${seconds(performance.now() - start)} s)\n`);
}

console.table(
  results.map((r) => ({
    name: r.name,
    value: `${r.value} ${r.unit}`,
    baseline: r.baseline === null ? '' : `${r.baseline} ${r.unit}`,
    ratio: r.ratio ?? '',
  })),
);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`bench: wrote ${out}; ran ${seconds(performance.now() - began)} s, ${load()} at the end\n`);
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
