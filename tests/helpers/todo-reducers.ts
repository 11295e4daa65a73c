import { defineReducers, validated } from '@quire/core';
import { z } from 'zod';

/** The todo app's reducers, plus rules that only the server can judge. */
export const todoReducers = defineReducers({
  init: (tx) => {
    tx.exec(`CREATE TABLE IF NOT EXISTS todos (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL,
      completed INTEGER NOT NULL DEFAULT 0,
      author TEXT
    )`);
  },
  addTodo: validated(z.object({ id: z.string().min(1), title: z.string() }), (tx, { id, title }, ctx) => {
    tx.exec('INSERT INTO todos (id, title, author) VALUES (?, ?, ?)', [id, title.trim(), ctx.userId ?? null]);
  }),
  /** Titles must be unique across the whole list: a client only knows what it has seen so far. */
  addUniqueTodo: (tx, { id, title }: { id: string; title: string }) => {
    const taken = tx.get('SELECT 1 AS x FROM todos WHERE title = ?', [title]);
    if (taken) throw new Error(`a todo titled "${title}" already exists`);
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
  },
  toggle: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE todos SET completed = 1 - completed WHERE id = ?', [id]);
  },
  rename: (tx, { id, title }: { id: string; title: string }) => {
    tx.exec('UPDATE todos SET title = ? WHERE id = ?', [title, id]);
  },
  remove: (tx, { id }: { id: string }) => {
    tx.exec('DELETE FROM todos WHERE id = ?', [id]);
  },
  /** Always throws on the server; the client never knows. */
  serverOnlyFail: (tx, { id }: { id: string }, ctx) => {
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, 'should vanish']);
    if (ctx.userId !== 'client-side') throw new Error('the server refuses this one');
  },
  initCounters: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  },
  /** Not idempotent on purpose: applying a call twice shows up as a wrong count. */
  increment: (tx, { id }: { id: string }) => {
    tx.exec('INSERT INTO counters (id, n) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1', [id]);
  },
});

export type TodoReducers = typeof todoReducers;

/** For `quire serve` and worker threads, which load the app from a module. */
export default todoReducers;
