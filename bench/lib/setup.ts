import { createClient, defineReducers, type QuireClient, type Reducers } from '@quire/core';

/** The todo workload; the Yjs side models the same list (./yjs.ts). */
export const todoReducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0)') && undefined,
  addTodo: (tx, { id, title }: { id: string; title: string }) => {
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
  },
  toggle: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE todos SET completed = 1 - completed WHERE id = ?', [id]);
  },
  // Seeds a document from the server in few commits: the same rows addTodo makes.
  addTodos: (tx, { todos }: { todos: Array<{ id: string; title: string }> }) => {
    for (const { id, title } of todos) tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
  },
});

export type BenchClient = QuireClient<typeof todoReducers>;

/** Every title has this many characters, on both sides, so neither system is sent shorter strings. */
export const TITLE_LENGTH = 32;

export function todoTitle(i: number, label = 'todo'): string {
  return `${label} ${i} `.padEnd(TITLE_LENGTH, 'x').slice(0, TITLE_LENGTH);
}

export function todoId(i: number, prefix = 't'): string {
  return `${prefix}${String(i).padStart(6, '0')}`;
}

/** `count` todos numbered from `from`, as `addTodos` and the Yjs seed take them. */
export function todoRange(from: number, count: number, prefix = 't'): Array<{ id: string; title: string }> {
  return Array.from({ length: count }, (_, k) => ({ id: todoId(from + k, prefix), title: todoTitle(from + k) }));
}

export function quireClient(url: string, docId: string): BenchClient {
  return createClient({ url, docId, reducers: todoReducers });
}

/** Resolves on the status change that makes the client connected at an LSN (no polling: some waits are a few ms). */
export function ready<R extends Reducers>(client: QuireClient<R>, minLsn = 1): Promise<void> {
  const isReady = () => client.status().connection === 'connected' && client.status().lsn >= minLsn;
  if (isReady()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = client.subscribeStatus(() => {
      if (!isReady()) return;
      stop();
      resolve();
    });
  });
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (samples: number[]) => percentile(samples, 50);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A clock shared by the processes of one machine, in ms. */
export const wallClock = () => performance.timeOrigin + performance.now();
