import type { Row } from '@quire/core';
import { dequal } from 'dequal';

const NO_ROWS: readonly never[] = Object.freeze([]);

/**
 * The next result of a live query, sharing structure with the previous one:
 * a row equal by value to its counterpart in `prev` is that same (frozen)
 * object, and when every row is kept the array itself is `prev`. Counterparts
 * are found by position or, with `rowKey`, by that column's value.
 *
 * `prevInput` is the client's result that `prev` was made from. A client
 * that keeps unchanged row objects (the browser client does) lets a row
 * found at the same index of both be taken without comparing values: on a
 * list of a thousand, one change costs one comparison, not a thousand.
 */
export function reconcileRows<T extends Row>(
  prev: readonly T[] | undefined,
  next: readonly T[],
  rowKey?: string,
  prevInput?: readonly T[],
): readonly T[] {
  const base = prev ?? (NO_ROWS as readonly T[]);
  let byKey: Map<unknown, T> | undefined;
  let unchanged = base.length === next.length;
  const rows = new Array<T>(next.length);
  for (let i = 0; i < next.length; i++) {
    const row = next[i]!;
    let kept: T;
    if (prevInput !== undefined && i < base.length && prevInput[i] === row) kept = base[i]!;
    else {
      const old = rowKey === undefined ? base[i] : (byKey ??= indexByKey(base, rowKey)).get(row[rowKey]);
      // Copy new rows: freezing is ours to do, not on the client's objects.
      kept = old !== undefined && dequal(old, row) ? old : (Object.freeze({ ...row }) as T);
    }
    if (kept !== base[i]) unchanged = false;
    rows[i] = kept;
  }
  return unchanged ? base : Object.freeze(rows);
}

function indexByKey<T extends Row>(rows: readonly T[], rowKey: string): Map<unknown, T> {
  const index = new Map<unknown, T>();
  for (const row of rows) if (!index.has(row[rowKey])) index.set(row[rowKey], row);
  return index;
}
