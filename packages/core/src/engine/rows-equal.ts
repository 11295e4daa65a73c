import type { Row, SqlValue } from '../reducers/tx.js';

/** Structural equality of two query results. */
export function rowsEqual(a: readonly Row[], b: readonly Row[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!rowEqual(a[i]!, b[i]!)) return false;
  return true;
}

/** Structural equality of two rows (blobs by content). */
export function rowEqual(a: Row, b: Row): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!valueEqual(a[key] ?? null, b[key] ?? null)) return false;
  return true;
}

function valueEqual(a: SqlValue, b: SqlValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return a === b;
}
