import { defineReducers } from '@quire/core';

/** A catalog large enough for a multi-level b-tree, for partial-replica tests. */
export const catalogReducers = defineReducers({
  init: (tx) => {
    tx.exec(`CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, price INTEGER NOT NULL, note TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS items_sku ON items (sku);
             CREATE TABLE IF NOT EXISTS tallies (name TEXT PRIMARY KEY, n INTEGER NOT NULL)`);
  },
  addMany: (tx, { from, count }: { from: number; count: number }) => {
    for (let id = from; id < from + count; id++) {
      tx.exec('INSERT INTO items (id, sku, price, note) VALUES (?, ?, ?, ?)', [id, `sku-${String((id * 7919) % 100_000).padStart(5, '0')}`, id % 997, 'n'.repeat(120)]);
    }
  },
  setPrice: (tx, { id, price }: { id: number; price: number }) => {
    tx.exec('UPDATE items SET price = ? WHERE id = ?', [price, id]);
  },
  remove: (tx, { id }: { id: number }) => {
    tx.exec('DELETE FROM items WHERE id = ?', [id]);
  },
  /** Reads every item and adds to a tally: applied twice, the tally would be off. */
  tally: (tx) => {
    tx.exec("INSERT INTO tallies (name, n) SELECT 'total', sum(price) FROM items WHERE true ON CONFLICT (name) DO UPDATE SET n = n + excluded.n");
    tx.exec("INSERT INTO tallies (name, n) VALUES ('runs', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1");
  },
});

export type CatalogReducers = typeof catalogReducers;
