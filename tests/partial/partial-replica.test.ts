import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { QuireClient } from '@quire/core';
import { type CatalogReducers, catalogReducers } from '../helpers/catalog-reducers.js';
import { seedFromEnv, seededRandom } from '../helpers/seeded-random.js';
import { withSeed } from '../helpers/client-pool.js';
import { type Harness, startHarness, waitForSettled } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const ITEMS = 3000;
let h: Harness<CatalogReducers>;
let totalPages = 0;

beforeEach(async () => {
  h = await startHarness(catalogReducers);
  const writer = h.client({ docId: 'catalog' });
  await writer.mutate.init().server;
  for (let from = 1; from <= ITEMS; from += 500) writer.mutate.addMany({ from, count: 500 });
  await writer.mutate.tally().server;
  totalPages = (await h.server.snapshot('catalog')).pageCount;
});
afterEach(async () => {
  await h.close();
});

const heldPages = (client: QuireClient<CatalogReducers>) => client.inspect((db) => db.pages.baseImage().pages.size);
const connected = (client: QuireClient<CatalogReducers>) => waitFor(() => client.status().connection === 'connected' && client.status().lsn > 0, 'the client to connect');

describe('a partial replica', () => {
  test('opens holding the schema and b-tree roots, and reads a row by key fetching the levels below', async () => {
    expect(totalPages).toBeGreaterThan(100);
    const partial = h.client({ docId: 'catalog', partial: true });
    await connected(partial);
    // Page 1 (the schema) and the root of each of the 5 b-trees, whatever the document's size.
    expect(await heldPages(partial)).toBe(6);
    const { rows, stats } = await partial.measureQuery('SELECT id, price FROM items WHERE id = ?', [1234]);
    expect(rows).toEqual([{ id: 1234, price: 1234 % 997 }]);
    // A two-level table: the root came with the snapshot, the leaf is one round trip.
    expect(stats).toMatchObject({ roundTrips: 1, pagesFetched: 1 });
  });

  test('random queries and reducers give the same results as a full replica', async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const rand = seededRandom(seed);
      const partial = h.client({ docId: 'catalog', partial: true, clientId: 'partial' });
      const full = h.client({ docId: 'catalog', clientId: 'full' });
      await Promise.all([connected(partial), connected(full)]);
      const queries = (): [string, unknown[]] => {
        const id = 1 + rand.int(ITEMS);
        switch (rand.int(5)) {
          case 0:
            return ['SELECT * FROM items WHERE id = ?', [id]];
          case 1:
            return ['SELECT id, price FROM items WHERE id BETWEEN ? AND ? ORDER BY id', [id, id + rand.int(200)]];
          case 2:
            return ['SELECT id, sku FROM items WHERE sku >= ? ORDER BY sku LIMIT 20', [`sku-${String(rand.int(100_000)).padStart(5, '0')}`]];
          case 3:
            return ['SELECT count(*) AS n, sum(price) AS total FROM items WHERE price < ?', [rand.int(997)]];
          default:
            return ['SELECT n FROM tallies ORDER BY name', []];
        }
      };
      for (let round = 0; round < 100; round++) {
        // Both sides write, so rebases interleave with fetches.
        const writer = rand.chance(0.5) ? partial : full;
        const id = 1 + rand.int(ITEMS);
        if (rand.chance(0.3)) writer.mutate.setPrice({ id, price: rand.int(10_000) });
        else if (rand.chance(0.1)) writer.mutate.remove({ id });
        else if (rand.chance(0.1)) writer.mutate.tally();
        const [sql, params] = queries();
        await waitForSettled(partial, h.server, 'catalog');
        await waitForSettled(full, h.server, 'catalog');
        expect(await partial.query(sql, params as never), `${sql} ${JSON.stringify(params)}`).toEqual(await full.query(sql, params as never));
      }
    });
  });

  test('a reducer that reads pages it lacks runs again cleanly once they arrive: its effects apply once', async () => {
    const partial = h.client({ docId: 'catalog', partial: true });
    await connected(partial);
    const before = await h.server.snapshot('catalog');
    expect(before.pageCount).toBeGreaterThan(100);
    const call = partial.mutate.tally();
    await call.local;
    const [local] = await partial.query<{ n: number }>("SELECT n FROM tallies WHERE name = 'runs'");
    expect(local!.n).toBe(2);
    await call.server;
    await waitForSettled(partial, h.server, 'catalog');
    const check = h.client({ docId: 'catalog' });
    await connected(check);
    await waitForSettled(check, h.server, 'catalog');
    const fromServer = await check.query('SELECT name, n FROM tallies ORDER BY name');
    expect(await partial.query('SELECT name, n FROM tallies ORDER BY name')).toEqual(fromServer);
    expect(fromServer.find((r) => r.name === 'runs')).toEqual({ name: 'runs', n: 2 });
  });

  test('offline, a read of a missing page fails with offline_missing_pages; held pages still read; hydrate() makes everything readable', async () => {
    const partial = h.client({ docId: 'catalog', partial: true });
    await connected(partial);
    expect(await partial.query('SELECT price FROM items WHERE id = 10')).toEqual([{ price: 10 }]);
    partial.disconnect();
    // The same page again: held, so it works offline.
    expect(await partial.query('SELECT price FROM items WHERE id = 10')).toEqual([{ price: 10 }]);
    await expect(partial.query('SELECT price FROM items WHERE id = 2900')).rejects.toMatchObject({ code: 'offline_missing_pages' });
    const errors: unknown[] = [];
    partial.subscribe('SELECT count(*) AS n FROM items', [], () => {}, (error) => errors.push(error));
    await waitFor(() => errors.length > 0, 'the live query to fail');
    expect(errors[0]).toMatchObject({ code: 'offline_missing_pages', message: expect.stringContaining('hydrate()') });

    partial.connect();
    await connected(partial);
    const progress: number[] = [];
    await partial.hydrate({ onProgress: ({ pages, total }) => progress.push(pages / total) });
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await heldPages(partial)).toBe(totalPages);
    partial.disconnect();
    expect(await partial.query('SELECT count(*) AS n FROM items')).toEqual([{ n: ITEMS }]);
  });
});
