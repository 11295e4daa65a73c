import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FileStore, type QuireClient, type ReplicaStore, createClient as createQuireClient } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { type CatalogReducers, catalogReducers } from '../helpers/catalog-reducers.js';
import { type Harness, startHarness, waitForSettled } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const ITEMS = 3000;
let h: Harness<CatalogReducers>;
let cacheDir: string;

beforeEach(async () => {
  h = await startHarness(catalogReducers);
  cacheDir = mkdtempSync(join(tmpdir(), 'quire-cache-'));
  const writer = h.client({ docId: 'catalog' });
  await writer.mutate.init().server;
  for (let from = 1; from <= ITEMS; from += 500) writer.mutate.addMany({ from, count: 500 });
  await writer.mutate.tally().server;
  await writer.close();
});
afterEach(async () => {
  await h.close();
});

type Client = QuireClient<CatalogReducers>;
const cacheFile = () => join(cacheDir, 'catalog.quire');
const connected = (client: Client) => waitFor(() => client.status().connection === 'connected' && client.status().lsn > 0, 'the client to connect');
const held = (client: Client) => client.inspect((db) => new Set(db.pages.baseImage().pages.keys()));
const read = (client: Client, ids: number[]) => client.query<{ id: number; price: number }>(`SELECT id, price FROM items WHERE id IN (${ids.join(',')}) ORDER BY id`);
const IDS = [7, 400, 1234, 2999];

async function cachedClient(options: { offline?: boolean; cacheSize?: number; store?: ReplicaStore } = {}): Promise<Client> {
  const client = h.client({ docId: 'catalog', partial: true, store: options.store ?? (await FileStore.open(cacheFile())), ...options });
  await client.ready();
  return client;
}

describe('a partial Node client with a FileStore', () => {
  test('restarts warm: the rows it read are there offline, and online it fetches nothing for them', async () => {
    const first = await cachedClient();
    await connected(first);
    const rows = await read(first, IDS);
    expect(rows.map((r) => r.id)).toEqual(IDS);
    const pages = await held(first);
    await first.close();

    const offline = await cachedClient({ offline: true });
    expect(await held(offline)).toEqual(pages);
    expect(await read(offline, IDS)).toEqual(rows);
    // Rows it never read are not there, and it says so instead of failing with an I/O error.
    await expect(offline.query('SELECT count(*) FROM items')).rejects.toMatchObject({ code: 'offline_missing_pages' });
    await offline.close();

    const online = await cachedClient();
    await connected(online);
    const again = await online.measureQuery('SELECT id, price FROM items WHERE id IN (7, 400, 1234, 2999) ORDER BY id');
    expect(again.rows).toEqual(rows);
    expect(again.stats.pagesFetched).toBe(0);
    await online.close();
  });

  test('a query right after the restart waits for the connection instead of failing', async () => {
    const first = await cachedClient();
    await connected(first);
    await read(first, [5]);
    await first.close();

    const second = await cachedClient();
    // Not connected yet, and this row's pages were never fetched.
    expect((await read(second, [2500])).map((r) => r.price)).toEqual([2500 % 997]);
    await second.close();
  });

  test('commits made while it was closed: it reads the current rows, and every page it keeps is the server\'s', async () => {
    const first = await cachedClient();
    await connected(first);
    await read(first, IDS);
    await first.close();

    const writer = h.client({ docId: 'catalog' });
    await writer.mutate.setPrice({ id: 400, price: 123_456 }).server;
    await writer.mutate.remove({ id: 1234 }).server;
    await writer.mutate.addMany({ from: ITEMS + 1, count: 300 }).server;

    const second = await cachedClient();
    await waitForSettled(second, h.server, 'catalog');
    expect(await read(second, [...IDS, ITEMS + 250])).toEqual([
      { id: 7, price: 7 },
      { id: 400, price: 123_456 },
      { id: 2999, price: 2999 % 997 },
      { id: ITEMS + 250, price: (ITEMS + 250) % 997 },
    ]);
    await expectHeldPagesCurrent(second);
    await second.close();
  });

  test('after a server restart, a client a few commits behind catches up without a snapshot and stays warm', async () => {
    const first = await cachedClient();
    await connected(first);
    const rows = await read(first, IDS);
    const pages = await held(first);
    await first.close();

    // A commit while it is away, then the same data directory under a new
    // server: the commit log tells it which pages that commit changed.
    const writer = h.client({ docId: 'catalog' });
    await writer.mutate.setPrice({ id: 1500, price: 1 }).server;
    await writer.close();
    await h.server.close();
    const server = createSyncServer({ reducers: catalogReducers, dataDir: h.dataDir });
    const { url } = await server.listen(0);
    try {
      const second = createClient(url, await FileStore.open(cacheFile()));
      await waitForSettled(second, server, 'catalog');
      const after = await held(second);
      expect([...pages].filter((pgno) => !after.has(pgno))).toEqual([]);
      const again = await second.measureQuery('SELECT id, price FROM items WHERE id IN (7, 400, 1234, 2999) ORDER BY id');
      expect(again.rows).toEqual(rows);
      expect(again.stats.pagesFetched).toBe(0);
      await second.close();
    } finally {
      await server.close();
    }
  });

  test('pending mutations survive a restart and apply once; new ones continue the seqs', async () => {
    // Synced once (the snapshot of a partial client: the schema and the b-tree roots), then offline.
    const synced = await cachedClient();
    await connected(synced);
    await synced.close();
    const first = await cachedClient({ offline: true });
    const handles = [first.mutate.setPrice({ id: 10, price: 1 }), first.mutate.tally(), first.mutate.setPrice({ id: 11, price: 2 })];
    // The cold replica lacks the pages these reducers read: offline, the local apply says so.
    await expect(handles[0]!.local).rejects.toMatchObject({ code: 'offline_missing_pages' });
    expect(handles.map((m) => m.seq)).toEqual([1, 2, 3]);
    await waitFor(() => first.status().pending === 3, 'three pending');
    await first.close();

    const second = await cachedClient();
    expect(second.status().pending).toBe(3);
    await waitForSettled(second, h.server, 'catalog');
    const next = second.mutate.setPrice({ id: 12, price: 3 });
    expect(next.seq).toBe(4);
    await next.server;
    expect(await read(second, [10, 11, 12])).toEqual([
      { id: 10, price: 1 },
      { id: 11, price: 2 },
      { id: 12, price: 3 },
    ]);
    expect(await second.query('SELECT name, n FROM tallies WHERE name = ?', ['runs'])).toEqual([{ name: 'runs', n: 2 }]);
    await second.close();
  });

  test('a crash before the store recorded what settled: the mutations are resent and still apply once', async () => {
    const real = await FileStore.open(cacheFile());
    // The process dies before any settle reaches the file.
    const forgetful: ReplicaStore = {
      load: () => real.load(),
      init: (id) => real.init(id),
      putPending: (m) => real.putPending(m),
      putBase: (change) => real.putBase({ ...change, settledThroughSeq: 0 }),
      settle: () => Promise.resolve(),
      close: () => real.close(),
    };
    const first = await cachedClient({ store: forgetful });
    await connected(first);
    await first.mutate.tally().server;
    await first.mutate.tally().server;
    await first.close();

    const second = await cachedClient();
    await waitForSettled(second, h.server, 'catalog');
    expect(await second.query('SELECT n FROM tallies WHERE name = ?', ['runs'])).toEqual([{ n: 3 }]);
    const next = second.mutate.tally();
    expect(next.seq).toBe(3);
    await next.server;
    expect(await second.query('SELECT n FROM tallies WHERE name = ?', ['runs'])).toEqual([{ n: 4 }]);
    await second.close();
  });

  test('with a bounded cache, the file keeps only what the cache keeps', async () => {
    const cacheSize = 40 * 4096;
    const client = await cachedClient({ cacheSize });
    await connected(client);
    for (let id = 1; id <= ITEMS; id += 97) await read(client, [id]);
    const inMemory = await held(client);
    await client.close();

    const stored = await FileStore.open(cacheFile());
    const pages = (await stored.load())!.pages.map((p) => p.pgno);
    await stored.close();
    // Eviction runs before each read, so the last read's pages may sit above the budget.
    expect(pages.length).toBeLessThan(cacheSize / 4096 + 10);
    expect(new Set(pages)).toEqual(inMemory);
  });
});

/** Every base page the client holds is byte-identical to the server's page. */
async function expectHeldPagesCurrent(client: Client): Promise<void> {
  const snapshot = await h.server.snapshot('catalog');
  const server = new Map(snapshot.pages.map((p) => [p.pgno, p.data]));
  const stale = await client.inspect((db) => {
    const out: number[] = [];
    for (const [pgno, data] of db.pages.baseImage().pages) if (Buffer.compare(Buffer.from(data), Buffer.from(server.get(pgno)!)) !== 0) out.push(pgno);
    return out;
  });
  expect(stale).toEqual([]);
}

function createClient(url: string, store?: ReplicaStore): Client {
  return createQuireClient({ url, docId: 'catalog', reducers: catalogReducers, partial: true, ...(store ? { store } : {}) });
}
