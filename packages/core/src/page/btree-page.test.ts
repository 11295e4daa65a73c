import { expect, test } from 'vitest';
import { ReplicaDb } from '../replica/replica-db.js';
import { interiorChildren } from './btree-page.js';

test('lists the children of interior pages, and nothing for leaves and other pages', async () => {
  const db = await ReplicaDb.open();
  // A replica-made database has the server's page size, not sqlite-wasm's 8 KiB default.
  expect(db.query('PRAGMA page_size')).toEqual([{ page_size: 4096 }]);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)');
  for (let i = 0; i < 3000; i++) db.exec('INSERT INTO t (id, v) VALUES (?, ?)', [i, `value-${i}-${'x'.repeat(100)}`]);
  const pageCount = db.pages.pageCount();
  const roots = db.query<{ name: string; rootpage: number }>("SELECT name, rootpage FROM sqlite_schema WHERE name IN ('t', 't_v')");
  const seen = new Set<number>();
  // Walking from each root through interior pages reaches every page of both b-trees exactly once.
  const walk = (pgno: number): number => {
    expect(seen.has(pgno)).toBe(false);
    seen.add(pgno);
    const children = interiorChildren(db.pages.read(pgno)!, pgno);
    return children ? 1 + children.map(walk).reduce((a, b) => a + b, 0) : 1;
  };
  const counted = roots.map((r) => walk(r.rootpage)).reduce((a, b) => a + b, 0);
  expect(roots.map((r) => interiorChildren(db.pages.read(r.rootpage)!, r.rootpage)?.length ?? 0).every((n) => n > 1)).toBe(true);
  expect(counted).toBe(seen.size);
  // Page 1 (the schema) is a leaf here; the rest are the two b-trees.
  expect(interiorChildren(db.pages.read(1)!, 1)).toBeUndefined();
  expect(seen.size).toBe(pageCount - 1);
  db.close();
});
