import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { QuireClient } from '@quire/core';
import { createClient } from '@quire/core';
import { type CatalogReducers, catalogReducers } from '../helpers/catalog-reducers.js';
import { type Harness, startHarness } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const ITEMS = 6000;
let h: Harness<CatalogReducers>;
const clients: QuireClient<CatalogReducers>[] = [];

beforeEach(async () => {
  h = await startHarness(catalogReducers);
  const writer = h.client({ docId: 'catalog' });
  await writer.mutate.init().server;
  for (let from = 1; from <= ITEMS; from += 500) writer.mutate.addMany({ from, count: 500 });
  await writer.mutate.setPrice({ id: 1, price: 1 }).server;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await h.close();
});

async function cold(prefetch: boolean, fetchWholeBelow?: number): Promise<QuireClient<CatalogReducers>> {
  const client = createClient({ url: h.url, docId: 'catalog', reducers: catalogReducers, partial: true, prefetch, ...(fetchWholeBelow !== undefined ? { fetchWholeBelow } : {}) });
  clients.push(client);
  await waitFor(() => client.status().connection === 'connected' && client.status().lsn > 0, 'a cold client to connect');
  return client;
}

describe('prefetch on a partial replica', () => {
  test('a range scan asks for the coming leaves in batches: a few round trips, not one per page', async () => {
    const sql = 'SELECT id, price FROM items WHERE id BETWEEN ? AND ? ORDER BY id';
    const withPrefetch = await (await cold(true)).measureQuery(sql, [2000, 2999]);
    const without = await (await cold(false)).measureQuery(sql, [2000, 2999]);
    expect(withPrefetch.rows).toHaveLength(1000);
    expect(withPrefetch.rows).toEqual(without.rows);
    // 1,000 rows of ~140 bytes span ~35 leaves.
    expect(without.stats.roundTrips).toBeGreaterThan(30);
    expect(withPrefetch.stats.roundTrips).toBeLessThanOrEqual(6);
    expect(withPrefetch.stats.pagesFetched).toBeLessThan(without.stats.pagesFetched * 2);
  });

  test('a point lookup by key on a cold client fetches one page per b-tree level below the root, nothing extra', async () => {
    const client = await cold(true);
    const { rows, stats } = await client.measureQuery('SELECT id, price FROM items WHERE id = ?', [4321]);
    expect(rows).toEqual([{ id: 4321, price: 4321 % 997 }]);
    expect(stats.pagesFetched).toBe(stats.roundTrips);
    // The roots came with the snapshot; this table has two levels.
    expect(stats.roundTrips).toBe(1);
    // A second lookup nearby reuses the interior pages: one leaf at most.
    const again = await client.measureQuery('SELECT id FROM items WHERE id = ?', [4500]);
    expect(again.stats.roundTrips).toBeLessThanOrEqual(1);
  });

  test('with fetchWholeBelow, a document no larger comes whole in one round trip; a larger one is read as before', async () => {
    const sql = 'SELECT id, price FROM items WHERE id BETWEEN ? AND ? ORDER BY id';
    const small = await cold(true, 16 << 20);
    const whole = await small.measureQuery(sql, [2000, 2999]);
    expect(whole.rows).toHaveLength(1000);
    expect(whole.stats.roundTrips).toBe(1);
    const pageCount = await small.inspect((db) => db.pages.baseImage().pageCount);
    // Everything but the pages the snapshot brought.
    expect(whole.stats.pagesFetched).toBeGreaterThan(pageCount / 2);
    const full = await small.measureQuery('SELECT count(*) AS n FROM items');
    expect(full.stats.roundTrips).toBe(0);

    const large = await (await cold(true, 4096)).measureQuery(sql, [2000, 2999]);
    expect(large.rows).toEqual(whole.rows);
    expect(large.stats.roundTrips).toBeGreaterThan(1);
  });
});
