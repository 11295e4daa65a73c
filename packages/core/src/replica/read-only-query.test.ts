import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QuireError } from '../errors.js';
import { ReplicaDb } from './replica-db.js';

describe('ReplicaDb.read: SQLite refuses anything but a read', () => {
  let db: ReplicaDb;
  const count = () => db.query<{ n: number }>('SELECT count(*) AS n FROM items')[0]!.n;
  const refusal = (sql: string): unknown => {
    try {
      db.read(sql);
    } catch (error) {
      return error;
    }
    throw new Error(`expected ${sql} to be refused`);
  };

  beforeAll(async () => {
    db = await ReplicaDb.open();
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)');
    db.exec('CREATE INDEX items_by_title ON items (title)');
    db.exec("INSERT INTO items (title) VALUES ('a'), ('b'), ('c')");
    db.exec("CREATE TABLE log (what TEXT); CREATE TRIGGER on_delete AFTER DELETE ON items BEGIN INSERT INTO log VALUES ('deleted'); END");
  });
  afterAll(() => db.close());

  test.each([
    'DELETE FROM items',
    "INSERT INTO items (title) VALUES ('x')",
    "UPDATE items SET title = 'x'",
    'WITH doomed AS (SELECT id FROM items) DELETE FROM items WHERE id IN doomed',
    "INSERT INTO items (title) SELECT 'x' RETURNING id",
    'DROP TABLE items',
    'CREATE TABLE other (x)',
    'CREATE TEMP TABLE other (x)',
    'ALTER TABLE items ADD COLUMN y',
    'BEGIN',
    'SAVEPOINT s',
    "ATTACH ':memory:' AS other",
    'PRAGMA foreign_keys = OFF',
    'PRAGMA user_version = 7',
    'PRAGMA query_only = 0',
    'PRAGMA optimize',
    'REINDEX',
    'ANALYZE',
    'VACUUM',
  ])('%s gets read_only_query and changes nothing', (sql) => {
    const error = refusal(sql);
    expect(error).toBeInstanceOf(QuireError);
    expect(error).toMatchObject({ code: 'read_only_query' });
    expect((error as Error).message).toMatch(/reducer/);
    expect(count()).toBe(3);
    expect(db.inTransaction()).toBe(false);
    expect(db.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  });

  test('a write after a read in one string is refused too, and nothing runs', () => {
    expect(refusal('SELECT 1; DELETE FROM items')).toMatchObject({ code: 'read_only_query' });
    expect(refusal("SELECT ';' AS semi; DROP TABLE items")).toMatchObject({ code: 'read_only_query' });
    expect(count()).toBe(3);
  });

  test('two reads in one string are refused: the second would be dropped silently', () => {
    expect(refusal('SELECT 1; SELECT 2')).toMatchObject({ code: 'multiple_statements' });
  });

  test('reads pass: joins, CTEs, recursion, functions, reporting pragmas, trailing comments and semicolons', () => {
    expect(db.read('SELECT title FROM items ORDER BY id')).toEqual([{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
    expect(db.read('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT sum(x) AS s FROM c')).toEqual([{ s: 6 }]);
    expect(db.read('SELECT upper(title) AS t FROM items WHERE id = ?', [2])).toEqual([{ t: 'B' }]);
    expect(db.read("SELECT name FROM pragma_table_info('items') ORDER BY cid")).toEqual([{ name: 'id' }, { name: 'title' }]);
    expect(db.read('PRAGMA table_info(items)').map((r) => r.name)).toEqual(['id', 'title']);
    expect(db.read('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(db.read('PRAGMA recursive_triggers')).toEqual([{ recursive_triggers: 1 }]);
    expect(db.read('SELECT count(*) AS n FROM items; -- all of them\n;;')).toEqual([{ n: 3 }]);
    expect(db.read('VALUES (1, 2)')).toEqual([{ column1: 1, column2: 2 }]);
  });

  test('the same SQL still runs as a write through exec (reducers are not affected)', () => {
    db.exec("INSERT INTO items (title) VALUES ('d')");
    expect(db.read('SELECT count(*) AS n FROM items')).toEqual([{ n: 4 }]);
    db.exec("DELETE FROM items WHERE title = 'd'");
    expect(refusal("DELETE FROM items WHERE title = 'd'")).toMatchObject({ code: 'read_only_query' });
  });

  test('a read compiled before a schema change still reads after it', () => {
    expect(db.read('SELECT * FROM items WHERE id = 1')).toEqual([{ id: 1, title: 'a' }]);
    db.exec('ALTER TABLE items ADD COLUMN extra TEXT');
    expect(db.read('SELECT * FROM items WHERE id = 1')).toEqual([{ id: 1, title: 'a', extra: null }]);
  });
});
