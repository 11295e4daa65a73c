import { rowEqual } from '../engine/rows-equal.js';
import type { Row } from '../reducers/tx.js';

/**
 * How a live query's rows changed, as the worker sends it to a tab: the
 * `removed` rows from index `from` on gave way to `rows`. Rows before and
 * after that range are unchanged, so a change to one todo of a thousand
 * crosses the thread boundary (and is copied by structured clone) as one row.
 */
export interface RowChange {
  from: number;
  removed: number;
  rows: Row[];
}

/**
 * The smallest single range of `next` that differs from `prev`. Without
 * `prev`, all of `next` replaces whatever the tab holds (`removed` is
 * Infinity), so a stale tab copy cannot survive a fresh subscription.
 */
export function diffRows(prev: readonly Row[] | undefined, next: readonly Row[]): RowChange {
  if (!prev) return { from: 0, removed: Number.POSITIVE_INFINITY, rows: [...next] };
  let from = 0;
  const common = Math.min(prev.length, next.length);
  while (from < common && rowEqual(prev[from]!, next[from]!)) from++;
  let tail = 0;
  while (tail < common - from && rowEqual(prev[prev.length - 1 - tail]!, next[next.length - 1 - tail]!)) tail++;
  return { from, removed: prev.length - from - tail, rows: next.slice(from, next.length - tail) };
}

/** The rows after `change`; the unchanged ones are `prev`'s own objects. */
export function applyRowChange(prev: readonly Row[], change: RowChange): Row[] {
  return [...prev.slice(0, change.from), ...change.rows, ...prev.slice(change.from + change.removed)];
}
