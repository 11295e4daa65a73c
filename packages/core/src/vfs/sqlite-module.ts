import sqlite3InitModule from '@sqlite.org/sqlite-wasm';

export type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;

let loading: Promise<Sqlite3> | undefined;

/** Loads the SQLite WASM module once per JavaScript realm. */
export function loadSqlite(): Promise<Sqlite3> {
  // Silence the module's own logging: errors reach callers as exceptions.
  loading ??= sqlite3InitModule({ print: () => {}, printErr: () => {} } as never);
  return loading;
}
