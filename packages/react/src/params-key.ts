import type { SqlParam, SqlParams } from '@quire/core';

/**
 * A string that is equal for two parameter lists exactly when they bind the
 * same values, so hooks can compare params by value. `JSON.stringify` is not
 * enough: it throws on bigint and maps NaN and null to the same text.
 */
export function paramsKey(params: SqlParams | undefined): string {
  if (params === undefined) return '[]';
  if (Array.isArray(params)) return `[${(params as readonly SqlParam[]).map(valueKey).join(',')}]`;
  const named = params as Readonly<Record<string, SqlParam>>;
  const entries = Object.keys(named)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${valueKey(named[name])}`);
  return `{${entries.join(',')}}`;
}

function valueKey(value: SqlParam): string {
  // undefined binds as NULL, and booleans as 1/0, on both sides.
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  return `x'${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('')}'`;
}
