import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, withServer } from '../lib/servers.js';
import { percentile, quireClient, todoId, todoTitle } from '../lib/setup.js';

/** mutate.addTodo until a subscribed query on the same client has the row. */
export async function localApply(iterations: number): Promise<BenchResult[]> {
  return withServer(startQuireServer, async (server) => {
    const client = quireClient(server.url, 'local-apply');
    try {
      await client.mutate.init().server;
      let latest = 0;
      let wake: (() => void) | undefined;
      const stop = client.subscribe<{ n: number }>('SELECT count(*) AS n FROM todos', [], (rows) => {
        latest = rows[0]!.n;
        wake?.();
      });
      const samples: number[] = [];
      const warmUp = 50;
      for (let i = 0; i < warmUp + iterations; i++) {
        const start = performance.now();
        client.mutate.addTodo({ id: todoId(i), title: todoTitle(i) });
        while (latest < i + 1) await new Promise<void>((r) => (wake = r));
        if (i >= warmUp) samples.push(performance.now() - start);
      }
      stop();
      return [result('local_apply_p50_ms', percentile(samples, 50), 'ms'), result('local_apply_p99_ms', percentile(samples, 99), 'ms')];
    } finally {
      await client.close();
    }
  });
}
