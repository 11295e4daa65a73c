import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { createClient, defineReducers } from '@quire/core';
import { createSyncServer } from '../sync-server.js';
import { silentLogger } from '../../test/memory-logger.js';
import { main } from './main.js';

const reducers = defineReducers({
  add: (tx, { n }: { n: number }) => {
    if (n < 0) throw new Error('no negative items');
    tx.exec('CREATE TABLE IF NOT EXISTS items (n INTEGER)');
    tx.exec('INSERT INTO items VALUES (?)', [n]);
  },
});

let dataDir = '';
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dataDir, { recursive: true, force: true });
});

test('quire inspect --json: each document with its LSN, size, pages, log, checkpoints, every client counted (20 listed) and recent rejections', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-inspect-'));
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger });
  const { url } = await server.listen(0);
  // 21 clients: one more than the report lists.
  const clients = Array.from({ length: 21 }, (_, i) => createClient({ url, docId: 'shop', reducers, clientId: `c${String(i).padStart(2, '0')}` }));
  try {
    for (const c of clients) await c.mutate.add({ n: 1 }).server;
    await expect(clients[0]!.mutate.add({ n: -1 }).server).rejects.toMatchObject({ code: 'reducer_error' });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  }
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  expect(await main(['inspect', '--json', dataDir])).toBe(0);
  const { documents } = JSON.parse(out.join('')) as { documents: Array<Record<string, unknown>> };
  expect(documents).toEqual([
    {
      docId: 'shop',
      live: false,
      lsn: 22,
      durableLsn: 22,
      firstLsn: 1,
      pageCount: expect.any(Number),
      sizeBytes: expect.any(Number),
      logBytes: expect.any(Number),
      checkpoints: [0],
      schemaVersion: 0,
      clients: Array.from({ length: 20 }, (_, i) => ({ clientId: `c${String(i).padStart(2, '0')}`, lastSeq: i === 0 ? 2 : 1 })),
      clientCount: 21,
      rejections: [{ clientId: 'c00', seq: 2, code: 'reducer_error' }],
    },
  ]);
  expect(documents[0]!.sizeBytes).toBe((documents[0]!.pageCount as number) * 4096);
  expect(documents[0]!.logBytes as number).toBeGreaterThan(0);

  out.length = 0;
  expect(await main(['inspect', dataDir])).toBe(0);
  expect(out.join('')).toContain('  clients (last seq) c00:2 c01:1 c02:1');
  expect(out.join('')).toContain(' c19:1 … (21 in all)\n  recent rejections c00:2 reducer_error\n');
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await main(['compact', '--json', dataDir])).toBe(2);
  expect(String(err.mock.calls[0]?.[0])).toContain('--json goes with quire inspect');
});

test('quire inspect of a document whose database file is missing (a restored backup) reads its clients from the log', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-inspect-'));
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger });
  const { url } = await server.listen(0);
  const client = createClient({ url, docId: 'shop', reducers, clientId: 'ann' });
  try {
    await client.mutate.add({ n: 1 }).server;
    await client.mutate.add({ n: 2 }).server;
  } finally {
    await client.close();
    await server.close();
  }
  // What `quire restore` leaves: the log, and no database file until a server opens the document.
  for (const name of readdirSync(join(dataDir, 'shop'))) if (name.startsWith('document.')) rmSync(join(dataDir, 'shop', name));
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  expect(await main(['inspect', '--json', dataDir, 'shop'])).toBe(0);
  const { documents } = JSON.parse(out.join('')) as { documents: Array<Record<string, unknown>> };
  expect(documents[0]).toMatchObject({ docId: 'shop', lsn: 2, clients: [{ clientId: 'ann', lastSeq: 2 }], clientCount: 1 });
  // It only read: the server rebuilds the file when it opens the document.
  expect(readdirSync(join(dataDir, 'shop')).filter((name) => name.startsWith('document.sqlite'))).toEqual([]);
});
