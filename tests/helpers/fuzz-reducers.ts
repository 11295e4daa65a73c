import { QuireError, defineReducers, validated, type Tx } from '@quire/core';
import { z } from 'zod';

/**
 * Reducers for the fuzz suites. Each one first journals its call in
 * `applied` (client, seq, name), then does its work, which can fail after
 * the journal row is written: a rejected call must leave nothing behind, so
 * `applied` must end up holding exactly the calls the server accepted and
 * did not reject.
 */
export const fuzzReducers = defineReducers({
  init: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS applied (client_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (client_id, seq))');
    tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
    tx.exec('CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  },
  /** Validated arguments. */
  note: validated(z.object({ id: z.string().min(1).max(200), body: z.string() }), (tx, { id, body }, ctx) => {
    journal(tx, ctx, 'note');
    tx.exec('INSERT INTO notes (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body', [id, body]);
  }),
  /** Not idempotent, not validated: a wrong type fails inside SQLite, after the journal row. */
  bump: (tx, { id }: { id: string }, ctx) => {
    journal(tx, ctx, 'bump');
    tx.exec('INSERT INTO counters (id, n) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1', [id]);
  },
  /** Stores whatever it gets as JSON: deep nesting, BigInt and cycles make it throw after the journal row. */
  echo: (tx, args: unknown, ctx) => {
    journal(tx, ctx, 'echo');
    tx.exec('INSERT INTO notes (id, body) VALUES (?, ?)', [`echo:${ctx.clientId}:${ctx.seq}`, JSON.stringify(args) ?? 'undefined']);
  },
  /** Always refused, after writing. */
  refuse: (tx, _args: unknown, ctx) => {
    journal(tx, ctx, 'refuse');
    throw new QuireError('refused', 'this reducer always refuses — it is there to be refused');
  },
});

export type FuzzReducers = typeof fuzzReducers;

/** The reducer names a fuzzed push may name (and `init`, which journals nothing). */
export const FUZZ_REDUCER_NAMES = ['note', 'bump', 'echo', 'refuse'] as const;

/** Rejection codes these reducers can produce from any input. Anything else is a server bug. */
export const FUZZ_REJECTION_CODES = ['unknown_reducer', 'invalid_args', 'reducer_error', 'refused'];

function journal(tx: Tx, ctx: { clientId: string; seq: number }, name: string): void {
  tx.exec('INSERT INTO applied (client_id, seq, name) VALUES (?, ?, ?)', [ctx.clientId, ctx.seq, name]);
}
