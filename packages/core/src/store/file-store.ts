import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { QuireError } from '../errors.js';
import type { BaseChange, ReplicaStore, StoredMutation, StoredReplica } from './replica-store.js';

// The file's layout; a file written by another layout is refused, not guessed at.
const FORMAT = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    client_id TEXT NOT NULL, lsn INTEGER NOT NULL, page_count INTEGER NOT NULL, last_seq INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS pages (pgno INTEGER PRIMARY KEY, data BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, args_json TEXT NOT NULL);`;

interface MetaRow {
  client_id: string;
  lsn: number;
  page_count: number;
  last_seq: number;
}

// The subset of better-sqlite3 used here, so its types stay out of the public API.
interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface Database {
  pragma(sql: string): unknown;
  exec(sql: string): void;
  prepare(sql: string): Statement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type DatabaseConstructor = new (path: string, options: { timeout: number }) => Database;

// Paths open in this process: a second open would share the client id and reuse seqs.
const openPaths = new Set<string>();

/**
 * A {@link ReplicaStore} in one local file, for Node clients (a read
 * replica, a script) that should restart warm. The file is a SQLite
 * database written through better-sqlite3 (an optional peer dependency):
 * each write is one transaction, synced before its promise resolves.
 * One process at a time: the file stays locked while the store is open.
 */
export class FileStore implements ReplicaStore {
  private readonly statements: {
    meta: Statement;
    putPage: Statement;
    dropPage: Statement;
    putPending: Statement;
    settle: Statement;
  };
  private closed = false;

  private constructor(
    private readonly db: Database,
    private readonly path: string,
  ) {
    this.statements = {
      meta: db.prepare('SELECT client_id, lsn, page_count, last_seq FROM meta WHERE id = 1'),
      putPage: db.prepare('INSERT OR REPLACE INTO pages (pgno, data) VALUES (?, ?)'),
      dropPage: db.prepare('DELETE FROM pages WHERE pgno = ?'),
      putPending: db.prepare('INSERT OR REPLACE INTO pending (seq, name, args_json) VALUES (?, ?, ?)'),
      settle: db.prepare('DELETE FROM pending WHERE seq <= ?'),
    };
  }

  /** Opens (or creates) the store in `path`, e.g. `./cache/<docId>.quire`. */
  static async open(path: string): Promise<FileStore> {
    const full = resolve(path);
    if (openPaths.has(full)) throw inUse(full);
    const Database = await loadDriver();
    let db: Database | undefined;
    try {
      db = new Database(full, { timeout: 0 });
      // Exclusive: the lock taken by the first write below is held until close.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const format = db.pragma('user_version') as Array<{ user_version: number }>;
      const version = format[0]?.user_version ?? 0;
      if (version !== 0 && version !== FORMAT) {
        throw new QuireError('store_format', `${full} was written by another version of Quire (format ${version}, this one reads ${FORMAT}) — delete it to start a fresh cache`);
      }
      db.exec(`BEGIN IMMEDIATE; ${SCHEMA} PRAGMA user_version = ${FORMAT}; COMMIT`);
    } catch (error) {
      db?.close();
      throw storeError(error, full);
    }
    openPaths.add(full);
    return new FileStore(db, full);
  }

  /** Deletes a stored replica. Close its client first. */
  static async destroy(path: string): Promise<void> {
    const full = resolve(path);
    if (openPaths.has(full)) throw inUse(full);
    // Open once to take the lock: another process may still have it open.
    await (await FileStore.open(full)).close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(full + suffix, { force: true });
  }

  async load(): Promise<StoredReplica | undefined> {
    const meta = this.statements.meta.get() as MetaRow | undefined;
    if (!meta) return undefined;
    const pages = this.db.prepare('SELECT pgno, data FROM pages ORDER BY pgno').all() as Array<{ pgno: number; data: Uint8Array }>;
    const pending = this.db.prepare('SELECT seq, name, args_json FROM pending ORDER BY seq').all() as Array<{ seq: number; name: string; args_json: string }>;
    return {
      clientId: meta.client_id,
      lsn: meta.lsn,
      pageCount: meta.page_count,
      lastSeq: meta.last_seq,
      // Plain Uint8Arrays like every other page source: a Buffer's slice() is a view.
      pages: pages.map(({ pgno, data }) => ({ pgno, data: new Uint8Array(data) })),
      pending: pending.map((m) => ({ seq: m.seq, name: m.name, argsJson: m.args_json })),
    };
  }

  async init(clientId: string): Promise<void> {
    this.write(() => this.db.prepare('INSERT OR IGNORE INTO meta (id, client_id, lsn, page_count, last_seq) VALUES (1, ?, 0, 0, 0)').run(clientId));
  }

  async putPending(mutation: StoredMutation): Promise<void> {
    this.write(() => this.statements.putPending.run(mutation.seq, mutation.name, mutation.argsJson));
  }

  async putBase(change: BaseChange): Promise<void> {
    this.write(() => {
      const current = this.requireMeta('putBase');
      if (change.kind === 'snapshot') this.db.exec('DELETE FROM pages');
      else if (change.pageCount < current.page_count) this.db.prepare('DELETE FROM pages WHERE pgno > ?').run(change.pageCount);
      for (const pgno of change.dropped ?? []) this.statements.dropPage.run(pgno);
      for (const { pgno, data } of change.pages) this.statements.putPage.run(pgno, data);
      if (change.settledThroughSeq > 0) this.statements.settle.run(change.settledThroughSeq);
      const lastSeq = Math.max(current.last_seq, change.settledThroughSeq);
      this.db.prepare('UPDATE meta SET lsn = ?, page_count = ?, last_seq = ? WHERE id = 1').run(change.lsn, change.pageCount, lastSeq);
    });
  }

  async settle(throughSeq: number): Promise<void> {
    this.write(() => {
      this.requireMeta('settle');
      this.statements.settle.run(throughSeq);
      this.db.prepare('UPDATE meta SET last_seq = max(last_seq, ?) WHERE id = 1').run(throughSeq);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    openPaths.delete(this.path);
  }

  private requireMeta(what: string): MetaRow {
    const meta = this.statements.meta.get() as MetaRow | undefined;
    if (!meta) throw new QuireError('store_not_initialized', `${what} before init — the engine stores its client id first`);
    return meta;
  }

  private write(fn: () => void): void {
    if (this.closed) throw new QuireError('store_closed', `the store in ${this.path} is closed`);
    try {
      this.db.transaction(fn)();
    } catch (error) {
      throw storeError(error, this.path);
    }
  }
}

async function loadDriver(): Promise<DatabaseConstructor> {
  try {
    const module = (await import('better-sqlite3')) as unknown as { default: DatabaseConstructor };
    return module.default;
  } catch {
    throw new QuireError('store_unavailable', 'FileStore needs the better-sqlite3 package — install it next to @quire/core (npm i better-sqlite3)');
  }
}

function inUse(path: string): QuireError {
  return new QuireError('store_in_use', `the stored replica in ${path} is open in another client or process — close it first, or give this client its own file`);
}

function storeError(error: unknown, path: string): Error {
  if (error instanceof QuireError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY')) return inUse(path);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new QuireError('store_corrupt', `${path} is not a Quire replica store or is damaged — delete it to start a fresh cache`);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new QuireError('store_failed', `could not use the stored replica in ${path} (${reason})`);
}
