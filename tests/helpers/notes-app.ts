import { type Migration, defineApp } from '@quire/core';

/**
 * A small app in two versions, for the migration suites. Version 2 adds a
 * column, and its step counts itself in `migration_runs`: a document that
 * ran it twice would hold two rows.
 */
const V1_MIGRATIONS: Migration[] = [
  'CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL)',
  'CREATE TABLE migration_runs (step INTEGER NOT NULL)',
];

const V2_MIGRATIONS: Migration[] = [
  ...V1_MIGRATIONS,
  (tx) => {
    tx.exec('ALTER TABLE notes ADD COLUMN done INTEGER NOT NULL DEFAULT 0');
    tx.exec('INSERT INTO migration_runs (step) VALUES (3)');
  },
];

export const notesV1 = defineApp({
  version: 1,
  migrations: V1_MIGRATIONS,
  reducers: {
    addNote: (tx, { id, title }: { id: string; title: string }) => void tx.exec('INSERT INTO notes (id, title) VALUES (?, ?)', [id, title]),
  },
});

export const notesV2 = defineApp({
  version: 2,
  migrations: V2_MIGRATIONS,
  reducers: {
    addNote: (tx, { id, title }: { id: string; title: string }) => void tx.exec('INSERT INTO notes (id, title) VALUES (?, ?)', [id, title]),
    setDone: (tx, { id, done }: { id: string; done: boolean }) => void tx.exec('UPDATE notes SET done = ? WHERE id = ?', [done ? 1 : 0, id]),
  },
});

export type NotesV1 = typeof notesV1;
export type NotesV2 = typeof notesV2;
