import { defineReducers, type QuireClient } from '@quire/core';

/** The partial-replica document: one table, two indexes; rows of ~200 bytes, so 1,000,000 rows make a ~200 MB document. */
export const catalogReducers = defineReducers({
  init: (tx) => {
    tx.exec(`CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, price INTEGER NOT NULL, note TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS items_sku ON items (sku);
             CREATE INDEX IF NOT EXISTS items_price ON items (price)`);
  },
  fill: (tx, { from, count }: { from: number; count: number }) => {
    for (let id = from; id < from + count; id++) {
      tx.exec('INSERT INTO items (id, sku, price, note) VALUES (?, ?, ?, ?)', [id, sku(id), (id * 7919) % 100_000, 'n'.repeat(150)]);
    }
  },
});

export type Catalog = QuireClient<typeof catalogReducers>;

export function sku(id: number): string {
  return `sku-${String((id * 104_729) % 10_000_019).padStart(8, '0')}`;
}
