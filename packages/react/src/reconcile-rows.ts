import type { Row } from '@quire/core';
import { dequal } from 'dequal';
import { castDraft, produce } from 'immer';

const NO_ROWS: readonly never[] = Object.freeze([]);

/**
 * The next result of a live query, sharing structure with the previous one:
 * a row equal by value to its counterpart in `prev` is that same (frozen)
 * object, and when every row is kept the array itself is `prev`. Counterparts
 * are found by position or, with `rowKey`, by that column's value.
 *
 * immer does the copy-on-write: assigning a row that is already in place is
 * not a change, so an unchanged result comes back as `prev`, and what it
 * produces is deeply frozen.
 */
export function reconcileRows<T extends Row>(prev: readonly T[] | undefined, next: readonly T[], rowKey?: string): readonly T[] {
  const base = prev ?? (NO_ROWS as readonly T[]);
  const byKey = rowKey === undefined ? undefined : indexByKey(base, rowKey);
  return produce(base as T[], (draft) => {
    next.forEach((row, i) => {
      const old = byKey ? byKey.get(row[rowKey!]) : base[i];
      // Copy new rows: freezing is ours to do, not on the client's objects.
      draft[i] = castDraft(old !== undefined && dequal(old, row) ? old : { ...row });
    });
    draft.length = next.length;
  });
}

function indexByKey<T extends Row>(rows: readonly T[], rowKey: string): Map<unknown, T> {
  const index = new Map<unknown, T>();
  for (const row of rows) if (!index.has(row[rowKey])) index.set(row[rowKey], row);
  return index;
}
