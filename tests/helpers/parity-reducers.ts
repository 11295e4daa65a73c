import { defineReducers, type Row, type SqlParam, type SqlValue } from '@quire/core';

/**
 * Reducers that lean on the SQL behaviours where two SQLite builds can
 * disagree: foreign keys and cascades, triggers, quoting, value types and
 * what a reducer's JavaScript sees when it reads values back.
 */
export const parityReducers = defineReducers({
  schema: (tx) => {
    tx.exec(`
      CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      CREATE TABLE children (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER NOT NULL REFERENCES parents (id) ON DELETE CASCADE,
        label TEXT
      );
      CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);
      CREATE TRIGGER child_added AFTER INSERT ON children BEGIN
        INSERT INTO audit (what) VALUES ('child ' || NEW.id || ' of ' || NEW.parent_id);
        UPDATE parents SET name = name || '+' WHERE id = NEW.parent_id;
      END;
      -- Fires for rows the cascade deletes, too.
      CREATE TRIGGER child_removed AFTER DELETE ON children BEGIN
        INSERT INTO audit (what) VALUES ('child ' || OLD.id || ' gone');
      END;
      CREATE TABLE "weird ""name""" (
        "id" INTEGER PRIMARY KEY,
        [brackets] TEXT,
        \`backticks\` INTEGER,
        "spaced col" REAL,
        "select" TEXT
      );
      CREATE INDEX "weird ""name"" by [brackets]" ON "weird ""name""" ([brackets]);
      CREATE TABLE vals (id INTEGER PRIMARY KEY, t TEXT, i INTEGER, r REAL, b BLOB, anything);
      CREATE TABLE seen (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, json TEXT NOT NULL);
    `);
  },
  addParent: (tx, { id, name }: { id: number; name: string }) => {
    tx.exec('INSERT INTO parents (id, name) VALUES (?, ?)', [id, name]);
  },
  addChild: (tx, { id, parentId, label }: { id: number; parentId: number; label: string | null }) => {
    tx.exec('INSERT INTO children (id, parent_id, label) VALUES (:id, :parentId, :label)', { id, parentId, label });
  },
  removeParent: (tx, { id }: { id: number }) => {
    tx.exec('DELETE FROM parents WHERE id = $id', { id });
  },
  putWeird: (tx, { id, brackets, backticks, spaced, select }: { id: number; brackets: string | null; backticks: number | null; spaced: number | null; select: string }) => {
    tx.exec('INSERT INTO "weird ""name""" ("id", [brackets], `backticks`, "spaced col", "select") VALUES (@id, @brackets, @backticks, @spaced, @select)', {
      id,
      brackets,
      backticks,
      spaced,
      select,
    });
  },
  putVals: (tx, { id, t, i, r, b, anything }: { id: number; t: string | null; i: number | boolean | null; r: number | null; b: Uint8Array | null; anything: SqlValue | boolean | undefined }) => {
    tx.exec('INSERT INTO vals (id, t, i, r, b, anything) VALUES (?, ?, ?, ?, ?, ?)', [id, t, i, r, b, anything]);
  },
  /** Values computed by SQL itself: functions, arithmetic, casts, affinity. */
  computed: (tx) => {
    tx.exec(`INSERT INTO vals (id, t, i, r, b, anything) VALUES
      (100, upper('straße é') || lower('ÄB') || length('𝄞a') || substr('añb𝄞c', 2, 3), 9007199254740991 - 1, 1.0 / 3, x'00ff10', typeof(1 / 2)),
      (101, printf('%5.2f|%d|%s|%q', 3.14159, 42, 'x', 'it''s'), CAST('12abc' AS INTEGER), round(2.5) + round(-2.5), zeroblob(3), '007'),
      (102, json_object('a', 1, 'b', 'two', 'c', json_array(1, 2.5, null)), unicode('€'), 1e300 * 1e300, x'', 'x' LIKE 'X'),
      (103, quote(x'0102') || quote('a''b') || quote(1.5), instr('añb𝄞c', '𝄞'), -0.0, CAST('abc' AS BLOB), '1.50' + 0)`);
    tx.exec(`INSERT INTO vals (id, t) SELECT 105, group_concat(name, '|') FROM (SELECT name FROM parents ORDER BY id)`);
  },
  /**
   * Records what the reducer's JavaScript sees when it reads rows back. If
   * the two sides hand reducers different types (Buffer vs Uint8Array,
   * bigint vs number), the recorded JSON differs.
   */
  observe: (tx, { source }: { source: string }) => {
    const rows = [
      ...tx.query(`SELECT * FROM vals ORDER BY id`),
      ...tx.query('SELECT * FROM "weird ""name""" ORDER BY "id"'),
      tx.get('SELECT count(*) AS n, total(i) AS total, max(r) AS maxr FROM vals') ?? {},
      tx.get('PRAGMA foreign_keys') ?? {},
    ];
    tx.exec('INSERT INTO seen (source, json) VALUES (?, ?)', [source, describeValues(rows)]);
  },
  /** Any statement with bound parameters, for probing one behaviour at a time. */
  execSql: (tx, { sql, params }: { sql: string; params?: SqlParam[] }) => {
    tx.exec(sql, params);
  },
  /** A double-quoted string literal: an error on both sides (no such column). */
  doubleQuoted: (tx) => {
    tx.exec('INSERT INTO vals (id, t) VALUES (900, "not a string")');
  },
  /** A child whose parent does not exist. */
  orphan: (tx) => {
    tx.exec('INSERT INTO children (id, parent_id, label) VALUES (901, 424242, ?)', ['orphan']);
  },
  /** Deferred check: the violation is only seen at the end of the reducer's savepoint/transaction. */
  orphanThenParent: (tx) => {
    tx.exec('INSERT INTO parents (id, name) VALUES (777, ?)', ['late parent']);
    tx.exec('INSERT INTO children (id, parent_id, label) VALUES (902, 777, ?)', ['fine']);
  },
});

export type ParityReducers = typeof parityReducers;

/** The tables the parity suite compares, with a stable order. */
export const PARITY_QUERIES = [
  'SELECT * FROM parents ORDER BY id',
  'SELECT * FROM children ORDER BY id',
  'SELECT * FROM audit ORDER BY seq',
  'SELECT * FROM "weird ""name""" ORDER BY "id"',
  'SELECT id, t, i, r, b, anything, typeof(t) AS tt, typeof(i) AS ti, typeof(r) AS tr, typeof(b) AS tb, typeof(anything) AS ta FROM vals ORDER BY id',
  'SELECT * FROM seen ORDER BY id',
  // An offline client starts from an empty file, the server from one that
  // already holds __quire_clients, so only the app's schema is compared.
  "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_autoindex%' AND name NOT LIKE '__quire%' ORDER BY name",
  'SELECT name, seq FROM sqlite_sequence ORDER BY name',
] as const;

function describeValues(rows: Row[] | Array<Record<string, unknown>>): string {
  return JSON.stringify(rows, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return { kind: value.constructor.name, hex: Buffer.from(value).toString('hex') };
    if (typeof value === 'bigint') return { kind: 'bigint', value: value.toString() };
    if (typeof value === 'number' && !Number.isFinite(value)) return { kind: 'number', value: String(value) };
    if (typeof value === 'number' && Object.is(value, -0)) return { kind: 'number', value: '-0' };
    return value;
  });
}
