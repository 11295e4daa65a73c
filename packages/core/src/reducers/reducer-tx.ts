import { QuireError } from '../errors.js';
import { assertReducerSql } from './sql-dialect.js';
import type { Row, SqlParams, Tx } from './tx.js';

/** The `tx` a reducer gets: the connection's `Tx`, minus transaction control. */
export function reducerTx(inner: Tx): Tx {
  return {
    exec(sql: string, params?: SqlParams) {
      assertReducerSql(sql);
      return inner.exec(sql, params);
    },
    query<R extends Row = Row>(sql: string, params?: SqlParams) {
      assertReducerSql(sql);
      return inner.query<R>(sql, params);
    },
    get<R extends Row = Row>(sql: string, params?: SqlParams) {
      assertReducerSql(sql);
      return inner.get<R>(sql, params);
    },
  };
}

/**
 * The `tx` of one reducer call. Once closed, every method throws before
 * touching the database: a late write (an `async` reducer's continuation, a
 * timer) would otherwise land after the transaction ended, outside any batch.
 */
export class CallTx implements Tx {
  private open = true;

  constructor(
    private readonly inner: Tx,
    private readonly reducer: string,
  ) {}

  exec(sql: string, params?: SqlParams): { changes: number } {
    this.check();
    return this.inner.exec(sql, params);
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): R[] {
    this.check();
    return this.inner.query<R>(sql, params);
  }

  get<R extends Row = Row>(sql: string, params?: SqlParams): R | undefined {
    this.check();
    return this.inner.get<R>(sql, params);
  }

  close(): void {
    this.open = false;
  }

  private check(): void {
    if (!this.open) {
      throw new QuireError('async_reducer', `reducer "${this.reducer}" used its tx after it returned — a reducer must be synchronous: do every read and write before returning, without await, timers or callbacks`);
    }
  }
}
