import type { SqlParam, SqlParams, SqlValue } from './tx.js';

/**
 * Normalises one bound value the same way on client and server, so a reducer
 * binds identical values on both: booleans become 1/0 and `undefined` NULL.
 * Whole numbers in the safe range bind as INTEGER (as BigInt: better-sqlite3
 * binds every JS number as REAL, sqlite-wasm binds whole ones as INTEGER);
 * every other number binds as REAL on both sides.
 */
export function normalizeParam(value: SqlParam): SqlValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}

/** Strips the `:`, `@` or `$` prefix from a SQL parameter name. */
export function bareParamName(name: string): string {
  return /^[:@$]/.test(name) ? name.slice(1) : name;
}

export function isNamedParams(params: SqlParams): params is Readonly<Record<string, SqlParam>> {
  return !Array.isArray(params);
}
