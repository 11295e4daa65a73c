import sqlite3InitModule from '@sqlite.org/sqlite-wasm';

export type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;

let loading: Promise<Sqlite3> | undefined;

/** Loads the SQLite WASM module once per JavaScript realm. */
export function loadSqlite(): Promise<Sqlite3> {
  loading ??= sqlite3InitModule().then((sqlite3) => {
    // A failed step is reported to the caller as an exception; the module's
    // own console warning for it is noise.
    (sqlite3.config as { warn: (...args: unknown[]) => void }).warn = () => {};
    return sqlite3;
  });
  return loading;
}
