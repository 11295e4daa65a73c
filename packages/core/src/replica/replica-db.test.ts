import { describe, expect, test } from 'vitest';
import { ReplicaDb } from './replica-db.js';
import { ReplicaPages } from './replica-pages.js';

describe('ReplicaDb on the page VFS', () => {
  test('writes land in the overlay, and dropping it restores the base', async () => {
    const db = await ReplicaDb.open();
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    db.exec('INSERT INTO t (v) VALUES (?)', ['a']);
    expect(db.query('SELECT v FROM t')).toEqual([{ v: 'a' }]);
    expect(db.pages.overlayPages().length).toBeGreaterThan(0);

    // Promote the overlay to a base, as a server commit would.
    const image = [...Array(db.pages.pageCount()).keys()].map((i) => ({ pgno: i + 1, data: db.pages.read(i + 1)!.slice() }));
    db.pages.resetBase(1, image.length, image);
    db.exec('INSERT INTO t (v) VALUES (?)', ['b']);
    expect(db.query('SELECT v FROM t ORDER BY id')).toEqual([{ v: 'a' }, { v: 'b' }]);

    db.pages.dropOverlay();
    expect(db.query('SELECT v FROM t ORDER BY id')).toEqual([{ v: 'a' }]);
    db.close();
  });

  test('a base swapped underneath is seen by the next read (change counter)', async () => {
    const a = await ReplicaDb.open();
    a.exec('CREATE TABLE t (v TEXT)');
    a.exec("INSERT INTO t VALUES ('one')");
    const snapshot = (db: ReplicaDb) =>
      [...Array(db.pages.pageCount()).keys()].map((i) => ({ pgno: i + 1, data: db.pages.read(i + 1)!.slice() }));
    const first = snapshot(a);
    a.exec("UPDATE t SET v = 'two'");
    const second = snapshot(a);

    const b = await ReplicaDb.open(new ReplicaPages());
    b.pages.resetBase(1, first.length, first);
    expect(b.get('SELECT v FROM t')).toEqual({ v: 'one' });
    b.pages.applyToBase(2, second.length, second);
    expect(b.get('SELECT v FROM t')).toEqual({ v: 'two' });
    a.close();
    b.close();
  });

  test('a page the replica lacks raises a page fault, not zeros', async () => {
    const a = await ReplicaDb.open();
    a.exec('CREATE TABLE t (v TEXT)');
    for (let i = 0; i < 200; i++) a.exec('INSERT INTO t VALUES (?)', ['x'.repeat(200)]);
    const pages = [...Array(a.pages.pageCount()).keys()].map((i) => ({ pgno: i + 1, data: a.pages.read(i + 1)!.slice() }));
    const b = await ReplicaDb.open();
    const last = pages.length;
    b.pages.resetBase(1, pages.length, pages.filter((p) => p.pgno !== last));
    expect(() => b.query('SELECT count(*) AS n FROM t')).toThrowError(/missing pages/);
    expect(b.get('SELECT 1 AS one')).toEqual({ one: 1 });
    a.close();
    b.close();
  });

  test('named parameters, booleans and undefined bind the same way as on the server', async () => {
    const db = await ReplicaDb.open();
    db.exec('CREATE TABLE t (a, b, c)');
    db.exec('INSERT INTO t VALUES (:a, @b, $c)', { a: true, b: undefined, c: 'x' });
    expect(db.get('SELECT a, b, c FROM t')).toEqual({ a: 1, b: null, c: 'x' });
    db.close();
  });

  test('client SQL follows server rules: foreign keys on, no double-quoted strings', async () => {
    const db = await ReplicaDb.open();
    db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id))');
    expect(() => db.exec('INSERT INTO c VALUES (1)')).toThrowError(/FOREIGN KEY/);
    expect(() => db.query('SELECT "nope" AS x')).toThrowError(/no such column/);
    db.close();
  });

  describe('a schema of another lineage with an equal schema cookie', () => {
    // Both sides ran one CREATE TABLE: each file has schema cookie 1.
    const otherLineage = async () => {
      const server = await ReplicaDb.open();
      server.exec('CREATE TABLE server_side (y TEXT)');
      server.exec("INSERT INTO server_side VALUES ('from server')");
      const pages = [...Array(server.pages.pageCount()).keys()].map((i) => ({ pgno: i + 1, data: server.pages.basePage(i + 1) ?? server.pages.read(i + 1)!.slice() }));
      server.close();
      return pages;
    };

    test('after a snapshot replaces the base, SQLite reads the new schema', async () => {
      const db = await ReplicaDb.open();
      db.exec('CREATE TABLE local_side (x TEXT)');
      expect(db.query('SELECT count(*) AS n FROM local_side')).toEqual([{ n: 0 }]);
      const pages = await otherLineage();
      db.pages.resetBase(1, pages.length, pages);
      expect(db.query('SELECT y FROM server_side')).toEqual([{ y: 'from server' }]);
      expect(() => db.query('SELECT * FROM local_side')).toThrow(/no such table: local_side/);
      db.close();
    });

    test('after local schema changes are dropped for a commit, SQLite reads the new schema', async () => {
      const db = await ReplicaDb.open();
      db.pages.resetBase(1, 0, []);
      db.exec('CREATE TABLE local_side (x TEXT)');
      expect(db.query('SELECT count(*) AS n FROM local_side')).toEqual([{ n: 0 }]);
      const pages = await otherLineage();
      db.pages.dropOverlay();
      db.pages.applyToBase(2, pages.length, pages);
      expect(db.query('SELECT y FROM server_side')).toEqual([{ y: 'from server' }]);
      expect(() => db.query('SELECT * FROM local_side')).toThrow(/no such table: local_side/);
      // Local writes on top keep working, and a later commit with the same schema needs no shift.
      db.exec("INSERT INTO server_side VALUES ('local')");
      expect(db.query('SELECT count(*) AS n FROM server_side')).toEqual([{ n: 2 }]);
      db.close();
    });
  });
});
