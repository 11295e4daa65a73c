import { type Tx, defineApp, validated } from '@quire/core';
import { z } from 'zod';

const CREATE_TABLES = `
  CREATE TABLE todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE notes (id TEXT PRIMARY KEY, author TEXT NOT NULL)`;

/** The same in both versions; a unique id per call shows a call applied twice (it would fail) or lost. */
const note = (tx: Tx, { id, author }: { id: string; author: string }) => {
  tx.exec('INSERT INTO notes (id, author) VALUES (?, ?)', [id, author]);
};

/** Version 1 of a small todo app. */
export const todoAppV1 = defineApp({
  version: 1,
  migrations: [CREATE_TABLES],
  reducers: {
    addTodo: validated(z.object({ id: z.string(), title: z.string() }), (tx, { id, title }) => {
      tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
    }),
    /** Not idempotent on purpose: applied twice, it shows. */
    toggle: (tx, { id }: { id: string }) => {
      tx.exec('UPDATE todos SET done = 1 - done WHERE id = ?', [id]);
    },
    setTitle: (tx, { id, title }: { id: string; title: string }) => {
      tx.exec('UPDATE todos SET title = ? WHERE id = ?', [title, id]);
    },
    note,
  },
});

/**
 * Version 2: a migration adds a column, addTodo takes a new required
 * argument, setTitle is gone (renamed to rename).
 */
export const todoAppV2 = defineApp({
  version: 2,
  migrations: [CREATE_TABLES, 'ALTER TABLE todos ADD COLUMN priority INTEGER NOT NULL DEFAULT 0'],
  reducers: {
    addTodo: validated(z.object({ id: z.string(), title: z.string(), priority: z.number().int() }), (tx, { id, title, priority }) => {
      tx.exec('INSERT INTO todos (id, title, priority) VALUES (?, ?, ?)', [id, title, priority]);
    }),
    toggle: (tx, { id }: { id: string }) => {
      tx.exec('UPDATE todos SET done = 1 - done WHERE id = ?', [id]);
    },
    rename: (tx, { id, title }: { id: string; title: string }) => {
      tx.exec('UPDATE todos SET title = ? WHERE id = ?', [title, id]);
    },
    note,
  },
});
