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
