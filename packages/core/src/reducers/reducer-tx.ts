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

/** A `tx` for one reducer call, and the switch that closes it once the call returns. */
export interface CallTx {
  tx: Tx;
  close(): void;
}

/**
 * Hands `inner` to one reducer call. Once closed, every method throws before
 * touching the database: a late write (an `async` reducer's continuation, a
 * timer) would otherwise land after the transaction ended, outside any batch.
 */
export function callTx(inner: Tx, reducer: string): CallTx {
  let open = true;
  const check = () => {
    if (!open) {
      throw new QuireError('async_reducer', `reducer "${reducer}" used its tx after it returned — a reducer must be synchronous: do every read and write before returning, without await, timers or callbacks`);
    }
  };
  return {
    tx: {
      exec: (sql, params) => (check(), inner.exec(sql, params)),
      query: <R extends Row = Row>(sql: string, params?: SqlParams) => (check(), inner.query<R>(sql, params)),
      get: <R extends Row = Row>(sql: string, params?: SqlParams) => (check(), inner.get<R>(sql, params)),
    },
    close: () => void (open = false),
  };
}
