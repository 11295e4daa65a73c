import type { Tx } from '@quire/core';

/**
 * Creates the list's table if it is not there yet. The first write to a list
 * calls it, so a visitor who only opens a list writes nothing: an empty list
 * is a document without a `todos` table.
 */
export function ensureTodoSchema(tx: Tx): void {
  tx.exec(`CREATE TABLE IF NOT EXISTS todos (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL
  )`);
  // Serves ORDER BY position and max(position). Being a second DDL statement,
  // it also keeps a fresh replica's schema cookie (2) apart from a fresh
  // server document's (1): the replica VFS only rewrites the change counter,
  // so equal cookies made SQLite keep a stale schema after the first snapshot.
  tx.exec('CREATE INDEX IF NOT EXISTS todos_by_position ON todos (position)');
}

/** One row, `n` = 1 once the list has its table (after its first todo), else 0. */
export const HAS_TODOS_SQL = "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = 'todos'";
