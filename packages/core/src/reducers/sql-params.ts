import type { SqlParam, SqlParams, SqlValue } from './tx.js';

/**
 * Normalises one bound value the same way on client and server, so a reducer
 * binds identical values on both: booleans become 1/0 and `undefined` NULL.
 */
export function normalizeParam(value: SqlParam): SqlValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** Strips the `:`, `@` or `$` prefix from a SQL parameter name. */
export function bareParamName(name: string): string {
  return /^[:@$]/.test(name) ? name.slice(1) : name;
}

export function isNamedParams(params: SqlParams): params is Readonly<Record<string, SqlParam>> {
  return !Array.isArray(params);
}
