import type { Row, SqlParams } from '../reducers/tx.js';
import { PageFault } from '../replica/replica-db.js';
import type { PageReads } from '../replica/replica-pages.js';
import { rowsEqual } from './rows-equal.js';

export type QueryListener<R extends Row = Row> = (rows: readonly R[]) => void;
export type ErrorListener = (error: unknown) => void;

interface Subscription {
  sql: string;
  params: SqlParams | undefined;
  listener: QueryListener;
  onError: ErrorListener | undefined;
  last: readonly Row[] | undefined;
  /** The pages its last run read, while `last` holds its rows. */
  reads: PageReads | undefined;
  /** Its last run needed pages the replica lacks. */
  faulted: boolean;
  /** Told of an error by failAll since its last run. */
  failed: boolean;
}

/**
 * Live queries: after a change, each one whose pages changed runs again,
 * and its listener is called when the rows differ.
 */
export class Subscriptions {
  private readonly subs = new Set<Subscription>();

  add(sql: string, params: SqlParams | undefined, listener: QueryListener, onError?: ErrorListener): () => void {
    const sub: Subscription = { sql, params, listener, onError, last: undefined, reads: undefined, faulted: false, failed: false };
    this.subs.add(sub);
    return () => void this.subs.delete(sub);
  }

  get size(): number {
    return this.subs.size;
  }

  /**
   * Re-runs, with `run`, every live query whose last run read a page that
   * `unchanged` says changed since (and those never run or failed), and
   * notifies those whose rows changed. Returns the pages that queries
   * missed: they are neither notified nor failed, and run again once the
   * pages are there.
   */
  refresh(run: (sql: string, params: SqlParams | undefined) => { result: Row[]; reads: PageReads }, unchanged: (reads: PageReads) => boolean): number[] {
    const missing = new Set<number>();
    for (const sub of [...this.subs]) {
      if (!this.subs.has(sub)) continue;
      // Same pages, same rows: SQLite would do exactly what it did last time.
      if (sub.last && sub.reads && !sub.failed && unchanged(sub.reads)) continue;
      let rows: Row[];
      sub.faulted = false;
      sub.failed = false;
      sub.reads = undefined;
      try {
        ({ result: rows, reads: sub.reads } = run(sub.sql, sub.params));
      } catch (error) {
        if (error instanceof PageFault) {
          sub.faulted = true;
          for (const pgno of error.pages) missing.add(pgno);
          continue;
        }
        // Forget the last rows: a recovery to the same rows must still be reported.
        sub.last = undefined;
        sub.onError?.(error);
        continue;
      }
      if (sub.last && rowsEqual(sub.last, rows)) continue;
      sub.last = Object.freeze(rows);
      sub.listener(sub.last);
    }
    return [...missing];
  }

  /**
   * Tells every query not yet told that its rows cannot be trusted (local
   * changes wait for pages): once, until a refresh runs it again.
   */
  failAll(error: unknown): void {
    for (const sub of [...this.subs]) {
      if (sub.failed) continue;
      sub.failed = true;
      sub.last = undefined;
      sub.onError?.(error);
    }
  }

  /** Fails the queries whose last run missed pages that cannot be had (offline). */
  failFaulted(error: unknown): void {
    for (const sub of [...this.subs]) {
      if (!sub.faulted) continue;
      sub.faulted = false;
      sub.last = undefined;
      sub.onError?.(error);
    }
  }
}
