/** A value SQLite stores. Blobs are `Uint8Array` on both client and server. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A bound parameter. Booleans bind as 1/0 and `undefined` as NULL, on both sides. */
export type SqlParam = SqlValue | boolean | undefined;

/** Positional (`?`) or named (`:name`, `@name`, `$name`; keys without the prefix) parameters. */
export type SqlParams = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;

export type Row = Record<string, SqlValue>;

/**
 * The synchronous SQL handle a reducer receives. The same interface runs on
 * the client replica (SQLite WASM) and on the server (better-sqlite3).
 */
export interface Tx {
  /** Runs a statement (or, without params, a script of statements). */
  exec(sql: string, params?: SqlParams): { changes: number };
  /** All rows of a query, as plain objects keyed by column name. */
  query<R extends Row = Row>(sql: string, params?: SqlParams): R[];
  /** The first row of a query, or `undefined`. */
  get<R extends Row = Row>(sql: string, params?: SqlParams): R | undefined;
}

/** Who is running a reducer, and for which mutation. */
export interface ReducerContext {
  clientId: string;
  seq: number;
  /** The authenticated user on the server; on a client, the `userId` it was created with, if any. */
  userId: string | undefined;
}
