import { QuireError } from '../errors.js';

/**
 * Connection settings that make the client's SQLite (WASM) run reducer SQL
 * exactly like the server's (better-sqlite3). better-sqlite3 is compiled with
 * foreign keys and recursive triggers on, and with double-quoted string
 * literals off; the client turns the same switches at runtime. A parity test
 * keeps the two aligned.
 */
export const PARITY_PRAGMAS = ['foreign_keys = ON', 'recursive_triggers = ON'] as const;

/** The name of the table, inside each document, that records what each client has had applied. */
export const CLIENTS_TABLE = '__quire_clients';

/**
 * The table, inside each document, that records the migrations it ran
 * (see define-app.ts): one row per step, its number and the LSN of the
 * commit that ran it. The document's schema version is the highest number.
 */
export const SCHEMA_TABLE = '__quire_schema';

export const CLIENTS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${CLIENTS_TABLE} (client_id TEXT PRIMARY KEY NOT NULL, last_seq INTEGER NOT NULL) WITHOUT ROWID`;

const TRANSACTION_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK(?!\s+(TRANSACTION\s+)?TO\b))\b/i;

/**
 * Reducers run inside the transaction Quire opens for them; ending it from
 * inside would commit half a batch. Savepoints (and ROLLBACK TO) are fine.
 */
export function assertReducerSql(sql: string): void {
  if (TRANSACTION_CONTROL.test(sql)) {
    throw new QuireError('transaction_control', `reducers must not run "${sql.trim().split(/\s+/)[0]}" — Quire opens and commits the transaction; use SAVEPOINT for nested rollbacks`);
  }
}
