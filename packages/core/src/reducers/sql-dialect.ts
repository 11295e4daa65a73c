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

export const CLIENTS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${CLIENTS_TABLE} (client_id TEXT PRIMARY KEY NOT NULL, last_seq INTEGER NOT NULL) WITHOUT ROWID`;
