import { afterEach, beforeEach, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { type CatalogReducers, catalogReducers } from '../helpers/catalog-reducers.js';
import { withSeed } from '../helpers/client-pool.js';
import { seedFromEnv, seededRandom } from '../helpers/seeded-random.js';
import { type Harness, startHarness, waitForSettled } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const ITEMS = 4000;
const CACHE_PAGES = 24;
let h: Harness<CatalogReducers>;
const clients: QuireClient<CatalogReducers>[] = [];

beforeEach(async () => {
  h = await startHarness(catalogReducers);
  const writer = h.client({ docId: 'catalog' });
  await writer.mutate.init().server;
  for (let from = 1; from <= ITEMS; from += 500) writer.mutate.addMany({ from, count: 500 });
  await writer.mutate.tally().server;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await h.close();
});

test('a cache smaller than the working set evicts least recently used pages and every result stays right', async () => {
  const seed = seedFromEnv();
  await withSeed(seed, async () => {
    const rand = seededRandom(seed);
    const small = createClient({ url: h.url, docId: 'catalog', reducers: catalogReducers, partial: true, cacheSize: CACHE_PAGES * 4096, clientId: 'small' });
    const full = h.client({ docId: 'catalog', clientId: 'full' });
    clients.push(small);
    await waitFor(() => small.status().connection === 'connected' && small.status().lsn > 0, 'small to connect');
    const structural = await small.inspect((db) => db.pages.baseImage().pages.size);
    let evictedSome = false;
    for (let round = 0; round < 60; round++) {
      const id = 1 + rand.int(ITEMS);
      if (rand.chance(0.3)) (rand.chance(0.5) ? small : full).mutate.setPrice({ id, price: rand.int(5000) });
      await waitForSettled(small, h.server, 'catalog');
      await waitForSettled(full, h.server, 'catalog');
      // A scan over ~40 leaves: larger than the whole cache.
      const sql = rand.chance(0.5) ? 'SELECT id, price FROM items WHERE id BETWEEN ? AND ? ORDER BY id' : 'SELECT id, price FROM items WHERE id IN (?, ?)';
      const params = sql.includes('BETWEEN') ? [id, id + 1200] : [id, 1 + rand.int(ITEMS)];
      expect(await small.query(sql, params)).toEqual(await full.query(sql, params));
      // Between operations the base is back within budget, plus the pages it may not drop.
      await small.query('SELECT 1');
      const held = await small.inspect((db) => db.pages.baseImage().pages.size);
      if (held < 60) evictedSome = true;
      expect(held).toBeLessThanOrEqual(CACHE_PAGES + structural + 16);
    }
    expect(evictedSome).toBe(true);
  });
});
