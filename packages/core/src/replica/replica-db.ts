import { PAGE_SIZE } from '../page/page.js';
import { bareParamName, isNamedParams, normalizeParam } from '../reducers/sql-params.js';
import { PARITY_PRAGMAS } from '../reducers/sql-dialect.js';
import type { Row, SqlParams, Tx } from '../reducers/tx.js';
import { QuireError } from '../errors.js';
import { PageVfs, VFS_NAME } from '../vfs/page-vfs.js';
import { loadSqlite, type Sqlite3 } from '../vfs/sqlite-module.js';
import { refuseInRead } from './read-only-policy.js';
import { ReplicaPages } from './replica-pages.js';
import { RowReader } from './row-reader.js';

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
  // Statements of read(): compiled while the authorizer refused writes, kept apart.
  private readonly readStatements = new Map<string, Stmt>();
  // While true, the authorizer allows only what a read needs (see read-only-policy.ts).
  private reading = false;
  private refused: string | undefined;
  // The read() statements that report the page count or the freelist (pragmas), by SQL.
  private readonly allocationReads = new Set<string>();
  private readingSql = '';
  private readonly rows: RowReader;
  private readonly calls: StatementExports;

  private constructor(
    private readonly sqlite3: Sqlite3,
    private readonly vfs: PageVfs,
    private readonly fileName: string,
    private readonly db: Db,
    readonly pages: ReplicaPages,
  ) {
    this.rows = new RowReader(sqlite3);
    this.calls = sqlite3.wasm.exports as StatementExports;
    const { capi } = sqlite3;
    // SQLite asks on every compile, including a recompile after a schema change.
    capi.sqlite3_set_authorizer(
      db.pointer!,
      (_arg, action, arg1, arg2) => {
        if (!this.reading) return capi.SQLITE_OK;
        if (reportsAllocation(action, arg1)) this.allocationReads.add(this.readingSql);
        const refusal = refuseInRead(action, arg1, arg2);
        if (refusal === undefined) return capi.SQLITE_OK;
        this.refused ??= refusal;
        return capi.SQLITE_DENY;
      },
      0 as never,
    );
  }

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
        this.step(stmt);
      } finally {
        this.reset(stmt);
      }
    });
    return { changes: this.db.changes() };
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): R[] {
    return this.guard(() => this.rowsOf<R>(this.prepare(sql, params)));
  }

  /**
   * Rows of one statement that SQLite confirms changes nothing: the
   * authorizer refuses every write, transaction control, ATTACH and
   * setting pragmas while it compiles, and `sqlite3_stmt_readonly` must
   * agree. Throws `read_only_query` for a statement that would write, and
   * `multiple_statements` when `sql` holds more than one.
   */
  read<R extends Row = Row>(sql: string, params?: SqlParams): R[] {
    this.reading = true;
    this.readingSql = sql;
    this.refused = undefined;
    try {
      return this.guard(() => this.rowsOf<R>(this.prepareRead(sql, params)));
    } catch (error) {
      if (this.refused !== undefined) throw readOnlyError(sql, this.refused, error);
      throw error;
    } finally {
      this.reading = false;
    }
  }

  /**
   * Whether `sql`, as compiled by read(), may report the page count or the
   * freelist: it uses a pragma or a virtual table over pages. Other reads
   * see neither (SQLite checks page numbers against the count, but reads
   * that read the same pages return the same rows).
   */
  readsAllocation(sql: string): boolean {
    return this.allocationReads.has(sql) || !this.readStatements.has(sql);
  }

  get<R extends Row = Row>(sql: string, params?: SqlParams): R | undefined {
    return this.guard(() => {
      const stmt = this.prepare(sql, params);
      try {
        return this.step(stmt) ? this.rows.row<R>(stmt.pointer!, this.rows.names(stmt.pointer!)) : undefined;
      } finally {
        this.reset(stmt);
      }
    });
  }

  /** True while a transaction is open on this connection. */
  inTransaction(): boolean {
    return !this.sqlite3.capi.sqlite3_get_autocommit(this.db.pointer!);
  }

  close(): void {
    for (const stmt of [...this.statements.values(), ...this.readStatements.values()]) stmt.finalize();
    this.statements.clear();
    this.readStatements.clear();
    this.db.close();
    this.vfs.unregister(this.fileName);
  }

  private prepare(sql: string, params: SqlParams | undefined): Stmt {
    // Bindings were cleared when the statement was last reset.
    const stmt = cached(this.statements, sql, () => this.db.prepare(sql));
    if (params !== undefined && stmt.parameterCount > 0) this.bind(stmt, params);
    return stmt;
  }

  /** Compiles a statement for read(), refusing one that writes or has others after it. */
  private prepareRead(sql: string, params: SqlParams | undefined): Stmt {
    const stmt = cached(this.readStatements, sql, () => {
      const compiled = this.db.prepare(sql);
      const { capi } = this.sqlite3;
      // The authorizer already refused writes; SQLite's own verdict must agree.
      if (capi.sqlite3_stmt_readonly(compiled.pointer!) === 0) this.refused ??= 'a write';
      // prepare() compiles the first statement and ignores the rest: say so rather than drop them.
      const head = capi.sqlite3_sql(compiled.pointer!) ?? '';
      const tail = sql.startsWith(head) ? sql.slice(head.length) : '';
      if (this.refused === undefined && tail && this.compiles(tail)) {
        compiled.finalize();
        throw new QuireError('multiple_statements', `query() runs one statement, and this SQL has more after ${JSON.stringify(head.trim())} — run each statement in its own query() call`);
      }
      if (this.refused !== undefined) {
        compiled.finalize();
        throw new QuireError('read_only_query', this.refused);
      }
      return compiled;
    });
    if (params !== undefined && stmt.parameterCount > 0) this.bind(stmt, params);
    return stmt;
  }

  /** True when `sql` holds a statement (even one that fails to compile), not just comments and semicolons. */
  private compiles(sql: string): boolean {
    const { capi, wasm } = this.sqlite3;
    const stack = wasm.pstack.pointer;
    try {
      const ppStmt = wasm.pstack.allocPtr();
      const rc = capi.sqlite3_prepare_v2(this.db.pointer!, sql, -1, ppStmt, 0 as never);
      const pStmt = wasm.peekPtr(ppStmt);
      if (pStmt) capi.sqlite3_finalize(pStmt as never);
      return rc !== capi.SQLITE_OK || !!pStmt;
    } finally {
      wasm.pstack.restore(stack);
    }
  }

  /** Every row of a prepared statement; the statement is reset for its next use. */
  private rowsOf<R extends Row>(stmt: Stmt): R[] {
    const rows: R[] = [];
    try {
      let names: string[] | undefined;
      while (this.step(stmt)) {
        names ??= this.rows.names(stmt.pointer!);
        rows.push(this.rows.row<R>(stmt.pointer!, names));
      }
    } finally {
      this.reset(stmt);
    }
    return rows;
  }

  /**
   * Steps a statement: true for a row, false when done; throws SQLite's
   * error as oo1's Stmt.step() does. Called straight through the WASM
   * export: oo1's wrapper converts arguments and keeps per-statement
   * bookkeeping (for its own column getters, which RowReader replaces) at
   * several times the cost of a short query's step, and live queries
   * step after every commit.
   */
  private step(stmt: Stmt): boolean {
    const rc = this.calls.sqlite3_step(stmt.pointer!);
    if (rc === SQLITE_ROW) return true;
    if (rc === SQLITE_DONE) return false;
    return this.sqlite3.oo1.DB.checkRc(this.db, rc) as never;
  }

  /** Resets a statement and clears its bindings for the next use; throws the error of a failed step, as oo1's Stmt.reset(true) does. */
  private reset(stmt: Stmt): void {
    this.calls.sqlite3_clear_bindings(stmt.pointer!);
    const rc = this.calls.sqlite3_reset(stmt.pointer!);
    if (rc !== 0) this.sqlite3.oo1.DB.checkRc(this.db, rc);
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

/** The C functions that run a prepared statement, straight from the WASM exports. */
interface StatementExports {
  sqlite3_step(pStmt: number): number;
  sqlite3_reset(pStmt: number): number;
  sqlite3_clear_bindings(pStmt: number): number;
}

// sqlite3_step's results (sqlite3.h).
const SQLITE_ROW = 100;
const SQLITE_DONE = 101;

// SQLite's authorizer action codes (sqlite3.h).
const SQLITE_PRAGMA = 19;
const SQLITE_READ = 20;

/** A pragma, as a statement or a table-valued function (also inside a view), or a virtual table over pages. */
function reportsAllocation(action: number, arg1: string | 0): boolean {
  if (action === SQLITE_PRAGMA) return true;
  if (action !== SQLITE_READ || typeof arg1 !== 'string') return false;
  const table = arg1.toLowerCase();
  return table.startsWith('pragma_') || table === 'dbstat' || table === 'sqlite_dbpage';
}

type ParamNames = { getParamName(i: number): string | undefined };

/** The statement for `sql` from a bounded cache (oldest out first), compiled on a miss. */
function cached(statements: Map<string, Stmt>, sql: string, compile: () => Stmt): Stmt {
  let stmt = statements.get(sql);
  if (stmt) return stmt;
  stmt = compile();
  if (statements.size >= 256) {
    const [oldest, old] = statements.entries().next().value as [string, Stmt];
    old.finalize();
    statements.delete(oldest);
  }
  statements.set(sql, stmt);
  return stmt;
}

function readOnlyError(sql: string, refused: string, cause: unknown): QuireError {
  const shown = sql.length > 120 ? `${sql.slice(0, 117)}...` : sql;
  return new QuireError(
    'read_only_query',
    `queries only read, and SQLite refused ${refused} in ${JSON.stringify(shown.trim())} — use SELECT to read; change data by calling a reducer (client.mutate.<name>(args)), which the server applies for everyone`,
    { cause },
  );
}
