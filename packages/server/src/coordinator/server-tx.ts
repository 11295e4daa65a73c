import type Database from 'better-sqlite3';
import type { Row, SqlParams, SqlValue, Tx } from '@quire/core';
import { isNamedParams, normalizeParam } from '@quire/core/internal';

type Statement = Database.Statement<unknown[], unknown>;

/**
 * The reducer `Tx` on better-sqlite3, shaped to behave like the client's:
 * `exec` accepts statements that return rows, `query` accepts ones that
 * don't, parameters normalise the same way, and blobs come back as plain
 * `Uint8Array`s rather than `Buffer`s.
 */
export class ServerTx implements Tx {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database.Database) {}

  exec(sql: string, params?: SqlParams): { changes: number } {
    if (params === undefined && !this.statements.has(sql)) {
      const before = this.db.prepare('SELECT total_changes() AS n').get() as { n: number };
      this.db.exec(sql);
      const after = this.db.prepare('SELECT total_changes() AS n').get() as { n: number };
      return { changes: after.n - before.n };
    }
    const stmt = this.prepare(sql);
    if (stmt.reader) {
      this.bind(stmt, params, (s, args) => s.all(...args));
      return { changes: 0 };
    }
    return { changes: this.bind(stmt, params, (s, args) => s.run(...args)).changes };
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): R[] {
    const stmt = this.prepare(sql);
    if (!stmt.reader) {
      this.bind(stmt, params, (s, args) => s.run(...args));
      return [];
    }
    return (this.bind(stmt, params, (s, args) => s.all(...args)) as Row[]).map(toPlainRow) as R[];
  }

  get<R extends Row = Row>(sql: string, params?: SqlParams): R | undefined {
    const stmt = this.prepare(sql);
    if (!stmt.reader) {
      this.bind(stmt, params, (s, args) => s.run(...args));
      return undefined;
    }
    const row = this.bind(stmt, params, (s, args) => s.get(...args)) as Row | undefined;
    return row === undefined ? undefined : (toPlainRow(row) as R);
  }

  private prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= 256) this.statements.delete(this.statements.keys().next().value as string);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private bind<T>(stmt: Statement, params: SqlParams | undefined, call: (stmt: Statement, args: unknown[]) => T): T {
    if (params === undefined) return call(stmt, []);
    if (!isNamedParams(params)) return call(stmt, params.map(normalizeParam));
    const named: Record<string, SqlValue> = {};
    for (const [key, value] of Object.entries(params)) named[key] = normalizeParam(value);
    return call(stmt, [named]);
  }
}

function toPlainRow(row: Row): Row {
  for (const key in row) {
    const value = row[key];
    if (Buffer.isBuffer(value)) row[key] = new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  return row;
}
