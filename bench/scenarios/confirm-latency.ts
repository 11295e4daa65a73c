import { WebSocket, WebSocketServer } from 'ws';
import { type BenchResult, result } from '../lib/result.js';
import { percentile, startServer } from '../lib/setup.js';

/**
 * mutate until the server promise resolves (durable and rebased), one at a
 * time over loopback. Baseline: a bare WebSocket round trip in the same run.
 */
export async function confirmLatency(iterations: number): Promise<BenchResult[]> {
  const server = await startServer();
  const client = server.client('confirm');
  await client.mutate.init().server;
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await client.mutate.addTodo({ id: `t${i}`, title: `todo ${i}` }).server;
    samples.push(performance.now() - start);
  }
  await client.close();
  await server.close();
  const rtt = await websocketRoundTrip(iterations);
  const p50 = percentile(samples, 50);
  return [result('confirm_p50_ms', p50, 'ms', rtt), result('confirm_p99_ms', percentile(samples, 99), 'ms')];
}

async function websocketRoundTrip(iterations: number): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data as Buffer)));
  await new Promise((r) => wss.once('listening', r));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  await new Promise((r) => ws.once('open', r));
  const payload = Buffer.alloc(64);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    ws.send(payload);
    await new Promise((r) => ws.once('message', r));
    samples.push(performance.now() - start);
  }
  ws.close();
  await new Promise((r) => wss.close(r));
  return percentile(samples, 50);
}
