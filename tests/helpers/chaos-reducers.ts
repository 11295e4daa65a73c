import { QuireError, defineReducers, validated } from '@quire/core';
import { z } from 'zod';

/**
 * The crash loop's workload, built so that every failure mode is visible in
 * the data:
 * - `append` has no unique key, so a second apply is a second row, and it
 *   bumps a per-client counter that then disagrees with the row count;
 * - `transfer` moves money between accounts and is refused when the payer
 *   would go below zero, after it has already written, so a refusal that
 *   leaks shows up as a row or a changed balance;
 * - both record the `(client_id, seq)` the server ran them as, so every row
 *   names the one mutation that made it.
 */
export const chaosReducers = defineReducers({
  init: validated(z.object({ accounts: z.array(z.string().min(1)).min(2), balance: z.number().int().min(0) }), (tx, { accounts, balance }) => {
    tx.exec('CREATE TABLE IF NOT EXISTS entries (id TEXT NOT NULL, client_id TEXT NOT NULL, seq INTEGER NOT NULL, pad BLOB)');
    tx.exec('CREATE TABLE IF NOT EXISTS counters (client_id TEXT PRIMARY KEY, applied INTEGER NOT NULL)');
    tx.exec('CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL)');
    tx.exec('CREATE TABLE IF NOT EXISTS transfers (id TEXT NOT NULL, client_id TEXT NOT NULL, seq INTEGER NOT NULL, payer TEXT NOT NULL, payee TEXT NOT NULL, amount INTEGER NOT NULL)');
    for (const id of accounts) tx.exec('INSERT OR IGNORE INTO accounts (id, balance) VALUES (?, ?)', [id, balance]);
  }),
  append: validated(z.object({ id: z.string().min(1), padBytes: z.number().int().min(0).max(16_384) }), (tx, { id, padBytes }, ctx) => {
    // zeroblob: some rows spill to overflow pages, so the file grows and the server checkpoints between kills.
    tx.exec('INSERT INTO entries (id, client_id, seq, pad) VALUES (?, ?, ?, zeroblob(?))', [id, ctx.clientId, ctx.seq, padBytes]);
    tx.exec('INSERT INTO counters (client_id, applied) VALUES (?, 1) ON CONFLICT (client_id) DO UPDATE SET applied = applied + 1', [ctx.clientId]);
  }),
  transfer: validated(
    z.object({ id: z.string().min(1), payer: z.string(), payee: z.string(), amount: z.number().int().min(1) }),
    (tx, { id, payer, payee, amount }, ctx) => {
      tx.exec('INSERT INTO transfers (id, client_id, seq, payer, payee, amount) VALUES (?, ?, ?, ?, ?, ?)', [id, ctx.clientId, ctx.seq, payer, payee, amount]);
      tx.exec('UPDATE accounts SET balance = balance - ? WHERE id = ?', [amount, payer]);
      tx.exec('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, payee]);
      const after = tx.get<{ balance: number }>('SELECT balance FROM accounts WHERE id = ?', [payer]);
      if (!after || after.balance < 0) {
        throw new QuireError('insufficient_funds', `${payer} cannot pay ${amount} (would have ${after?.balance ?? 'no account'})`);
      }
    },
  ),
});

export type ChaosReducers = typeof chaosReducers;

/** For `quire serve --reducers`. */
export default chaosReducers;
