import { type BenchResult, result } from '../lib/result.js';
import { type ServerChild, startQuireServer, startYjsServer, withServer } from '../lib/servers.js';
import { percentile, quireClient, ready, todoId, todoTitle } from '../lib/setup.js';
import { addTodo, yjsClient } from '../lib/yjs.js';

const WARM_UP = 50;

/**
 * Client A adds a todo; the time until client B's live view has it. Edits
 * are sequential. Quire: B's subscription; Yjs: B's observer on the todos map.
 */
export async function propagation(edits: number): Promise<BenchResult[]> {
  const quire = await withServer(startQuireServer, (server) => propagationSamples(server, edits));
  const yjs = await withServer(startYjsServer, async (server) => {
    const a = yjsClient(server.url, 'prop');
    const b = yjsClient(server.url, 'prop');
    try {
      await Promise.all([a.synced, b.synced]);
      const view = counter();
      b.todos.observe(() => view.set(b.todos.size));
      return await sequential(edits, view, (i) => addTodo(a.doc, todoId(i), todoTitle(i)));
    } finally {
      a.close();
      b.close();
    }
  });
  return [
    result('propagation_p50_ms', percentile(quire, 50), 'ms', percentile(yjs, 50)),
    result('propagation_p99_ms', percentile(quire, 99), 'ms', percentile(yjs, 99)),
  ];
}

/** Quire: client A adds a todo, until client B's subscription has it; `edits` after 50 for warm-up. */
export async function propagationSamples(server: ServerChild, edits: number): Promise<number[]> {
  await server.seed('prop', []);
  const a = quireClient(server.url, 'prop');
  const b = quireClient(server.url, 'prop');
  try {
    await Promise.all([ready(a), ready(b)]);
    const view = counter();
    const stop = b.subscribe<{ n: number }>('SELECT count(*) AS n FROM todos', [], (rows) => view.set(rows[0]!.n));
    const samples = await sequential(edits, view, (i) => void a.mutate.addTodo({ id: todoId(i), title: todoTitle(i) }));
    stop();
    return samples;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

function counter() {
  let value = 0;
  let wake: (() => void) | undefined;
  return {
    set(n: number) {
      value = n;
      wake?.();
    },
    async atLeast(n: number) {
      while (value < n) await new Promise<void>((r) => (wake = r));
    },
  };
}

async function sequential(edits: number, view: ReturnType<typeof counter>, edit: (i: number) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARM_UP + edits; i++) {
    const start = performance.now();
    edit(i);
    await view.atLeast(i + 1);
    if (i >= WARM_UP) samples.push(performance.now() - start);
  }
  return samples;
}
