import { type Tx, defineApp, validated } from '@quire/core';
import { z } from 'zod';

/**
 * One app in two versions, for the app-version tests. Version 2 drops
 * `star`, changes the arguments of `rename` ({ title } became { text }) and
 * keeps the rest. `increment` is not idempotent: a call applied twice shows.
 */
const init = (tx: Tx) => {
  tx.exec('CREATE TABLE IF NOT EXISTS todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, starred INTEGER NOT NULL DEFAULT 0)');
  tx.exec('CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
};
const addTodo = (tx: Tx, { id, title }: { id: string; title: string }) => {
  tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
};
const increment = (tx: Tx, { id }: { id: string }) => {
  tx.exec('INSERT INTO counters (id, n) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1', [id]);
};

export const appV1 = defineApp({
  version: 1,
  reducers: {
    init,
    addTodo,
    increment,
    star: (tx, { id }: { id: string }) => {
      tx.exec('UPDATE todos SET starred = 1 WHERE id = ?', [id]);
    },
    rename: validated(z.object({ id: z.string(), title: z.string() }), (tx, { id, title }) => {
      tx.exec('UPDATE todos SET title = ? WHERE id = ?', [title, id]);
    }),
  },
});

export const appV2 = defineApp({
  version: 2,
  reducers: {
    init,
    addTodo,
    increment,
    rename: validated(z.object({ id: z.string(), text: z.string() }), (tx, { id, text }) => {
      tx.exec('UPDATE todos SET title = ? WHERE id = ?', [text, id]);
    }),
  },
});

export type AppV1 = typeof appV1;
export type AppV2 = typeof appV2;
