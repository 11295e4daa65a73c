import { type BenchResult, result } from '../lib/result.js';
import { percentile, startServer } from '../lib/setup.js';

/** mutate.addTodo until a subscribed query on the same client has the row. */
export async function localApply(iterations: number): Promise<BenchResult[]> {
  const server = await startServer();
  const client = server.client('local-apply');
  await client.mutate.init().server;
  let latest = 0;
  let wake: (() => void) | undefined;
  const stop = client.subscribe<{ n: number }>('SELECT count(*) AS n FROM todos', [], (rows) => {
    latest = rows[0]!.n;
    wake?.();
  });
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    client.mutate.addTodo({ id: `t${i}`, title: `todo ${i}` });
    while (latest < i + 1) await new Promise<void>((r) => (wake = r));
    samples.push(performance.now() - start);
  }
  stop();
  await client.close();
  await server.close();
  return [result('local_apply_p50_ms', percentile(samples, 50), 'ms'), result('local_apply_p99_ms', percentile(samples, 99), 'ms')];
}
