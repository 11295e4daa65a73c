import type { SqlValue } from '@quire/core';

/** How the SQL panel prints one value: NULL and blobs the way the sqlite3 shell would. */
export function formatCell(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (value instanceof Uint8Array) {
    const shown = Array.from(value.subarray(0, 32), (b) => b.toString(16).padStart(2, '0')).join('');
    return `x'${shown}${value.length > 32 ? '…' : ''}'`;
  }
  return String(value);
}
