import { createClient, defineReducers, type QuireClient } from '@quire/core';

export const todoReducers = defineReducers({
  init: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0)');
    tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  },
  addTodo: (tx, { id, title }: { id: string; title: string }) => {
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
  },
  toggle: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE todos SET done = 1 - done WHERE id = ?', [id]);
  },
  addNote: (tx, { id, body }: { id: string; body: string }) => {
    tx.exec('INSERT INTO notes (id, body) VALUES (?, ?)', [id, body]);
  },
});

export type TodoReducers = typeof todoReducers;
export type Todo = { id: string; title: string; done: number };

let docs = 0;

/**
 * A real client with the WASM engine and no server: `offline: true` never
 * dials the URL, mutations apply locally and stay pending. Tables exist and
 * `todos` are inserted before it is returned.
 */
export async function offlineClient(todos: { id: string; title: string }[] = []): Promise<QuireClient<TodoReducers>> {
  const client = createClient({ url: 'ws://127.0.0.1:1', docId: `react-test-${++docs}`, reducers: todoReducers, offline: true });
  await client.mutate.init().local;
  for (const todo of todos) await client.mutate.addTodo(todo).local;
  return client;
}

/**
 * Resolves once the engine has finished everything queued so far, including
 * the refresh of live queries that a mutation scheduled: the engine runs its
 * operations one after another.
 */
export async function engineIdle(client: QuireClient<TodoReducers>): Promise<void> {
  await client.query('SELECT 1');
}
