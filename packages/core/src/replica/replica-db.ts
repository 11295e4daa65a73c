import { PAGE_SIZE } from '../page/page.js';
import { bareParamName, isNamedParams, normalizeParam } from '../reducers/sql-params.js';
import { PARITY_PRAGMAS } from '../reducers/sql-dialect.js';
import type { Row, SqlParams, Tx } from '../reducers/tx.js';
import { PageVfs, VFS_NAME } from '../vfs/page-vfs.js';
import { loadSqlite, type Sqlite3 } from '../vfs/sqlite-module.js';
import { ReplicaPages } from './replica-pages.js';

type Db = InstanceType<Sqlite3['oo1']['DB']>;
type Stmt = ReturnType<Db['prepare']>;

const vfsByModule = new WeakMap<Sqlite3, PageVfs>();
let nextFileId = 0;

/** A page read missed: the page exists on the server but is not cached here. */
export class PageFault extends Error {
  constructor(readonly pages: number[]) {
    super(`missing pages ${pages.join(', ')}`);
    this.name = 'PageFault';
  }
}

/**
 * One SQLite WASM connection over a {@link ReplicaPages}. Synchronous, like
 * reducers: every statement runs to completion before control returns.
 */
export class ReplicaDb implements Tx {
  private readonly statements = new Map<string, Stmt>();

  private constructor(
    private readonly sqlite3: Sqlite3,
    private readonly vfs: PageVfs,
    private readonly fileName: string,
    private readonly db: Db,
    readonly pages: ReplicaPages,
  ) {}

  static async open(pages = new ReplicaPages()): Promise<ReplicaDb> {
    const sqlite3 = await loadSqlite();
    let vfs = vfsByModule.get(sqlite3);
    if (!vfs) vfsByModule.set(sqlite3, (vfs = new PageVfs(sqlite3)));
    const fileName = `replica-${nextFileId++}.db`;
    vfs.register(fileName, pages);
    const db = new sqlite3.oo1.DB({ filename: fileName, flags: 'c', vfs: VFS_NAME });
    const { capi } = sqlite3;
    capi.sqlite3_db_config(db.pointer!, capi.SQLITE_DBCONFIG_DQS_DML, 0, 0);
    capi.sqlite3_db_config(db.pointer!, capi.SQLITE_DBCONFIG_DQS_DDL, 0, 0);
    // The replica's journal only has to survive a rollback, never a crash.
    db.exec('PRAGMA journal_mode = MEMORY; PRAGMA temp_store = MEMORY; PRAGMA synchronous = OFF');
    // sqlite-wasm creates 8 KiB pages; a database this replica starts
    // (offline, before any snapshot) must have the server's page size.
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
    for (const pragma of PARITY_PRAGMAS) db.exec(`PRAGMA ${pragma}`);
    return new ReplicaDb(sqlite3, vfs, fileName, db, pages);
  }

  exec(sql: string, params?: SqlParams): { changes: number } {
    if (params === undefined) {
      this.guard(() => this.db.exec(sql));
      return { changes: this.db.changes() };
    }
    this.guard(() => {
      const stmt = this.prepare(sql, params);
      try {
        stmt.step();
      } finally {
        stmt.reset(true);
      }
    });
    return { changes: this.db.changes() };
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): R[] {
    return this.guard(() => {
      const stmt = this.prepare(sql, params);
      const rows: R[] = [];
      try {
        while (stmt.step()) rows.push(stmt.get({}) as R);
      } finally {
        stmt.reset(true);
      }
      return rows;
    });
  }

  get<R extends Row = Row>(sql: string, params?: SqlParams): R | undefined {
    return this.guard(() => {
      const stmt = this.prepare(sql, params);
      try {
        return stmt.step() ? (stmt.get({}) as R) : undefined;
      } finally {
        stmt.reset(true);
      }
    });
  }

  /** True while a transaction is open on this connection. */
  inTransaction(): boolean {
    return !this.sqlite3.capi.sqlite3_get_autocommit(this.db.pointer!);
  }

  close(): void {
    for (const stmt of this.statements.values()) stmt.finalize();
    this.statements.clear();
    this.db.close();
    this.vfs.unregister(this.fileName);
  }

  private prepare(sql: string, params: SqlParams | undefined): Stmt {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= 256) {
        const [oldest, old] = this.statements.entries().next().value as [string, Stmt];
        old.finalize();
        this.statements.delete(oldest);
      }
      this.statements.set(sql, stmt);
    }
    stmt.clearBindings();
    if (params !== undefined && stmt.parameterCount > 0) this.bind(stmt, params);
    return stmt;
  }

  private bind(stmt: Stmt, params: SqlParams): void {
    const named = isNamedParams(params);
    for (let i = 1; i <= stmt.parameterCount; i++) {
      const name = named ? (stmt as unknown as ParamNames).getParamName(i) : undefined;
      const value = normalizeParam(named ? (name ? params[bareParamName(name)] : undefined) : params[i - 1]);
      if (typeof value === 'number') {
        // Always REAL: sqlite-wasm would send whole doubles through int64,
        // which wraps for values beyond 2^63.
        this.sqlite3.capi.sqlite3_bind_double(stmt.pointer!, i, value);
      } else {
        stmt.bind(i, value);
      }
    }
  }

  /** Turns a read of a page this replica lacks into a {@link PageFault}. */
  private guard<T>(run: () => T): T {
    try {
      const result = run();
      this.vfs.takeFaults(this.fileName);
      return result;
    } catch (error) {
      const missing = this.vfs.takeFaults(this.fileName);
      if (missing.length > 0) throw new PageFault(missing);
      throw error;
    }
  }
}

type ParamNames = { getParamName(i: number): string | undefined };
