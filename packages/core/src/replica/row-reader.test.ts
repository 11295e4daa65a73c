import { describe, expect, it } from 'vitest';
import { loadSqlite } from '../vfs/sqlite-module.js';
import { RowReader } from './row-reader.js';

// Every kind of value a column can hold, at the edges of each representation.
const SELECT = `SELECT
  NULL AS null_value, 0 AS zero, -7 AS negative, 9007199254740991 AS max_safe, 9007199254740992 AS past_safe,
  -9007199254740993 AS below_safe, 9223372036854775807 AS int64_max, 1.5 AS real, -0.0 AS negative_zero, 1e308 AS huge,
  '' AS empty, 'plain ascii' AS ascii, 'héllo wörld — ✓ 🎉' AS utf8, x'' AS empty_blob, x'00ff10' AS blob,
  42 AS dup, 'second' AS dup`;

describe('RowReader', () => {
  it('reads the values, types and column names that sqlite-wasm Stmt.get({}) reads', async () => {
    const sqlite3 = await loadSqlite();
    const db = new sqlite3.oo1.DB(':memory:');
    try {
      db.exec('CREATE TABLE t (a, b TEXT); INSERT INTO t VALUES (1, NULL), (2.25, \'x\'), (NULL, \'a longer title that is not short at all, with ünïcode\')');
      const reader = new RowReader(sqlite3);
      for (const sql of [SELECT, 'SELECT * FROM t ORDER BY rowid']) {
        const stmt = db.prepare(sql);
        const expected: unknown[] = [];
        while (stmt.step()) expected.push(stmt.get({}));
        stmt.reset();
        const actual: unknown[] = [];
        while (stmt.step()) actual.push(reader.row(stmt.pointer!, reader.names(stmt.pointer!)));
        stmt.finalize();
        expect(actual).toEqual(expected);
        for (let r = 0; r < expected.length; r++) {
          for (const [key, value] of Object.entries(expected[r] as object)) expect(typeof (actual[r] as Record<string, unknown>)[key], key).toBe(typeof value);
        }
      }
    } finally {
      db.close();
    }
  });
});
