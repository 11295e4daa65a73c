import type { Row, SqlParams } from '../reducers/tx.js';
import { rowsEqual } from './rows-equal.js';

export type QueryListener<R extends Row = Row> = (rows: readonly R[]) => void;
export type ErrorListener = (error: unknown) => void;

interface Subscription {
  sql: string;
  params: SqlParams | undefined;
  listener: QueryListener;
  onError: ErrorListener | undefined;
  last: readonly Row[] | undefined;
}

/** Live queries: each is re-run after a change and its listener called when the rows differ. */
export class Subscriptions {
  private readonly subs = new Set<Subscription>();

  add(sql: string, params: SqlParams | undefined, listener: QueryListener, onError?: ErrorListener): () => void {
    const sub: Subscription = { sql, params, listener, onError, last: undefined };
    this.subs.add(sub);
    return () => void this.subs.delete(sub);
  }

  get size(): number {
    return this.subs.size;
  }

  /** Re-runs every live query with `run` and notifies those whose rows changed. */
  refresh(run: (sql: string, params: SqlParams | undefined) => Row[]): void {
    for (const sub of [...this.subs]) {
      if (!this.subs.has(sub)) continue;
      let rows: Row[];
      try {
        rows = run(sub.sql, sub.params);
      } catch (error) {
        // Forget the last rows: a recovery to the same rows must still be reported.
        sub.last = undefined;
        sub.onError?.(error);
        continue;
      }
      if (sub.last && rowsEqual(sub.last, rows)) continue;
      sub.last = Object.freeze(rows);
      sub.listener(sub.last);
    }
  }
}
