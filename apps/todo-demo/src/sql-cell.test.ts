import { expect, test } from 'vitest';
import { formatCell } from './sql-cell.js';

test('cells print like the sqlite3 shell', () => {
  expect(formatCell(null)).toBe('NULL');
  expect(formatCell(0)).toBe('0');
  expect(formatCell(2n ** 70n)).toBe('1180591620717411303424');
  expect(formatCell('NULL')).toBe('NULL');
  expect(formatCell(new Uint8Array([0, 171, 255]))).toBe("x'00abff'");
  expect(formatCell(new Uint8Array(40).fill(1))).toBe(`x'${'01'.repeat(32)}…'`);
});
