import { fileURLToPath } from 'node:url';
import { QuireError, defineReducers, validated } from '@quire/core';
import { z } from 'zod';

/**
 * A workload that shows losses and duplicates: `append` inserts a row with
 * no unique key (a second apply makes a second row) and bumps its client's
 * counter (which then disagrees with the row count).
 */
export const ledgerReducers = defineReducers({
  init: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS entries (id TEXT NOT NULL, client TEXT NOT NULL, n INTEGER NOT NULL, pad BLOB)');
    tx.exec('CREATE TABLE IF NOT EXISTS counters (client TEXT PRIMARY KEY, applied INTEGER NOT NULL)');
  },
  append: validated(
    z.object({ id: z.string().min(1), client: z.string(), n: z.number().int().min(1), padBytes: z.number().int().min(0).max(16_384) }),
    (tx, { id, client, n, padBytes }) => {
      // zeroblob: page-sized rows make the document grow (and checkpoints happen) without big frames.
      tx.exec('INSERT INTO entries (id, client, n, pad) VALUES (?, ?, ?, zeroblob(?))', [id, client, n, padBytes]);
      tx.exec('INSERT INTO counters (client, applied) VALUES (?, 1) ON CONFLICT (client) DO UPDATE SET applied = applied + 1', [client]);
    },
  ),
  /** Always refused, with the app's own error code. */
  closeLedger: (tx, { reason }: { reason: string }) => {
    tx.exec("INSERT INTO entries (id, client, n) VALUES ('closing', '-', 0)");
    throw new QuireError('ledger_closed', `the ledger is closed (${reason}) — open a new one`);
  },
});

export type LedgerReducers = typeof ledgerReducers;

/** This file, for `quire serve --reducers` in a child process. */
export const LEDGER_REDUCERS_FILE = fileURLToPath(import.meta.url);

/** For `quire serve --reducers`. */
export default ledgerReducers;
