import { WebSocket } from 'ws';
import { type BenchResult, result } from '../lib/result.js';
import { type ServerChild, startEchoServer, startQuireServer, withServer } from '../lib/servers.js';
import { percentile, quireClient, todoId, todoTitle } from '../lib/setup.js';

/**
 * mutate until the server promise resolves (durable and rebased), one at a
 * time over loopback. Baseline: a bare WebSocket round trip to another
 * process, in the same run.
 */
export async function confirmLatency(iterations: number): Promise<BenchResult[]> {
  const samples = await withServer(startQuireServer, (server) => confirmSamples(server, iterations));
  const rtt = await withServer(startEchoServer, (echo) => websocketRoundTrip(echo.port, iterations));
  return [result('confirm_p50_ms', percentile(samples, 50), 'ms', rtt), result('confirm_p99_ms', percentile(samples, 99), 'ms')];
}

/** One client's `addTodo` until its `.server` promise resolves, one at a time, after 20 for warm-up. */
export async function confirmSamples(server: ServerChild, iterations: number): Promise<number[]> {
  const client = quireClient(server.url, 'confirm');
  try {
    await client.mutate.init().server;
    const out: number[] = [];
    const warmUp = 20;
    for (let i = 0; i < warmUp + iterations; i++) {
      const start = performance.now();
      await client.mutate.addTodo({ id: todoId(i), title: todoTitle(i) }).server;
      if (i >= warmUp) out.push(performance.now() - start);
    }
    return out;
  } finally {
    await client.close();
  }
}

async function websocketRoundTrip(port: number, iterations: number): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const payload = Buffer.alloc(64);
  const samples: number[] = [];
  for (let i = 0; i < 20 + iterations; i++) {
    const start = performance.now();
    ws.send(payload);
    await new Promise((r) => ws.once('message', r));
    if (i >= 20) samples.push(performance.now() - start);
  }
  ws.close();
  return percentile(samples, 50);
}
