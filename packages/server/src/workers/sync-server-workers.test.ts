import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { type QuireClient, defineApp } from '@quire/core';
import { migrationsOf } from '@quire/core/internal';
import app from '../../test/fixtures/worker-app.js';
import { LEVEL, memoryLogger } from '../../test/memory-logger.js';
import { ServerPerTest } from '../../test/server-per-test.js';
import { createSyncServer } from '../sync-server.js';
import { documentSlot } from './document-slot.js';

// Real worker threads, which run the build of this package: `pnpm turbo run build` first.
const APP_MODULE = new URL('../../test/fixtures/worker-app.ts', import.meta.url);
const WORKERS = 2;

const each = new ServerPerTest(app, 'quire-workers-');

async function start(options: { workers?: boolean; reducerTimeMs?: number } = {}) {
  const memory = memoryLogger();
  const url = await each.start({
    logger: memory.logger,
    ...(options.workers !== false && { workers: { module: APP_MODULE, count: WORKERS } }),
    ...(options.reducerTimeMs !== undefined && { limits: { reducerTimeMs: options.reducerTimeMs } }),
  });
  return { ...memory, url };
}

/** Document ids that live on worker `slot`. */
function docsOn(slot: number, count: number, prefix = 'doc'): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (documentSlot(`${prefix}-${i}`, WORKERS) === slot) ids.push(`${prefix}-${i}`);
  return ids;
}

const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id).sort();

test('clients on many documents spread over the workers converge, each document on its own', async () => {
  const { url } = await start();
  const docs = [...docsOn(0, 4), ...docsOn(1, 4)];
  const perClient = 15;
  const pairs = docs.map((docId) => [each.client(url, docId, 'a'), each.client(url, docId, 'b')] as const);
  await Promise.all(
    pairs.flatMap(([a, b]) =>
      [a, b].map(async (c) => {
        const sent = Array.from({ length: perClient }, (_, n) => c.mutate.add({ id: `${c.docId}/${c.clientId}/${n}`, client: c.clientId }).server);
        await Promise.all(sent);
      }),
    ),
  );
  for (const [a, b] of pairs) {
    await Promise.all([a.synced(), b.synced()]);
    const expected = ['a', 'b'].flatMap((who) => Array.from({ length: perClient }, (_, n) => `${a.docId}/${who}/${n}`)).sort();
    expect(ids(await a.query<{ id: string }>('SELECT id FROM items'))).toEqual(expected);
    expect(ids(await b.query<{ id: string }>('SELECT id FROM items'))).toEqual(expected);
  }
  // Server-side calls reach the document's worker too.
  await each.server.mutate(docs[0]!, 'add', { id: 'from-server', client: 'server' });
  const snapshot = await each.server.snapshot(docs[0]!);
  expect(snapshot.lsn).toBeGreaterThan(0);
  expect(snapshot.pages[0]!.data).toBeInstanceOf(Uint8Array);
  await expect.poll(() => each.server.health().documents).toBe(docs.length);
});

/**
 * How many mutations a client of another document gets confirmed, one after
 * the other, while a server-side call of a reducer that spins for `spinMs`
 * runs (until that call is durable).
 */
async function confirmedDuringSpin(url: string, slowDoc: string, quickDoc: string, spinMs: number): Promise<number> {
  const quick = each.client(url, quickDoc, 'q');
  await quick.mutate.add({ id: 'warm', client: 'q' }).server;
  await each.server.mutate(slowDoc, 'add', { id: 'warm', client: 'server' });
  let slowDone = false;
  const slow = each.server.mutate(slowDoc, 'spin', { ms: spinMs }).then(() => (slowDone = true));
  let confirmed = 0;
  for (let n = 0; !slowDone; n++) {
    await quick.mutate.add({ id: `q-${n}`, client: 'q' }).server;
    if (!slowDone) confirmed++;
  }
  await slow;
  return confirmed;
}

// Sequential round trips take a few ms each: a free document confirms hundreds in 2 s.
const SPIN_MS = 2000;
const FREE = 10;

test('a slow reducer on one worker does not hold up a document on another worker', async () => {
  const { url } = await start({ reducerTimeMs: 60_000 });
  const confirmed = await confirmedDuringSpin(url, docsOn(0, 1)[0]!, docsOn(1, 1)[0]!, SPIN_MS);
  expect(confirmed).toBeGreaterThanOrEqual(FREE);
});

test('on one thread, the same slow reducer holds up every document (what the workers fix)', async () => {
  const { url } = await start({ workers: false, reducerTimeMs: 60_000 });
  const confirmed = await confirmedDuringSpin(url, 'slow', 'quick', SPIN_MS);
  expect(confirmed).toBeLessThan(FREE);
});

test('a worker that crashes is logged and replaced; its clients reconnect and no confirmed mutation is lost', async () => {
  const { url, lines } = await start();
  const [docId] = docsOn(1, 1, 'crashy');
  const [other] = docsOn(0, 1, 'calm');
  const a = each.client(url, docId!, 'a');
  const b = each.client(url, docId!, 'b');
  const calm = each.client(url, other!, 'c');
  const confirmed = new Set<string>();
  const sent: Array<Promise<unknown>> = [];
  const send = (c: QuireClient<typeof app>, id: string) =>
    sent.push(c.mutate.add({ id, client: c.clientId }).server.then(() => void confirmed.add(id)));
  for (let n = 0; n < 20; n++) {
    send(a, `a-${n}`);
    send(b, `b-${n}`);
  }
  // The first five of each client confirmed (expect.poll would give up after 1 s: a busy machine is slower).
  await Promise.all(sent.slice(0, 10));
  expect(confirmed.size).toBeGreaterThanOrEqual(10);
  const confirmedBeforeCrash = [...confirmed];

  await expect(each.server.mutate(docId!, 'crash', {})).rejects.toMatchObject({ code: 'outcome_unknown' });
  // More while the worker is replaced: they queue on the clients and go once they reconnect.
  for (let n = 20; n < 30; n++) {
    send(a, `a-${n}`);
    send(b, `b-${n}`);
  }
  send(calm, 'calm-1');
  await Promise.all(sent);

  await Promise.all([a.synced(), b.synced()]);
  const rows = ids(await a.query<{ id: string }>('SELECT id FROM items'));
  const all = ['a', 'b'].flatMap((who) => Array.from({ length: 30 }, (_, n) => `${who}-${n}`)).sort();
  expect(rows).toEqual(all);
  expect(ids(await b.query<{ id: string }>('SELECT id FROM items'))).toEqual(all);
  expect(rows).toEqual(expect.arrayContaining(confirmedBeforeCrash));
  const crashLines = lines.filter((l) => /^document worker 1 crashed/.test(l.msg));
  // The document it had open rebuilds from its log: the thread's SQLite connections closed in no set order.
  expect(crashLines).toEqual([expect.objectContaining({ level: LEVEL.error, worker: 1, exitCode: 70, documents: 1 })]);
});

test('workers refuse the options they cannot serve yet, and a bad count, with what to do', () => {
  const workers = { module: APP_MODULE, count: 2 };
  expect(() => createSyncServer({ reducers: app, dataDir: each.dataDir, workers, s3: { bucket: 'b' } })).toThrow('`workers` does not work together with `s3` yet — leave out one of them');
  expect(() => createSyncServer({ reducers: app, dataDir: each.dataDir, workers, commitLog: () => undefined as never })).toThrow('`workers` does not work together with `commitLog` yet');
  expect(() => createSyncServer({ reducers: app, dataDir: each.dataDir, workers: { module: APP_MODULE, count: 0 } })).toThrow('workers.count must be a whole number of at least 1, got 0');
});

test('pageCacheKib reaches the documents on the workers', async () => {
  const { logger } = memoryLogger();
  const server = each.create({ logger, pageCacheKib: 64, workers: { module: APP_MODULE, count: 1 } });
  const { url } = await server.listen(0);
  await server.mutate('cache', 'recordCacheSize', {});
  const reader = each.client(url, 'cache', 'reader');
  await reader.synced();
  // A negative cache_size is in KiB.
  expect(ids(await reader.query<{ id: string }>('SELECT id FROM items'))).toEqual(['cache_size -64']);
});

test('a module named the way TypeScript imports name it (./app.js for app.ts) loads the TypeScript file', async () => {
  const { logger } = memoryLogger();
  const server = each.create({ logger, workers: { module: new URL('../../test/fixtures/worker-app.js', import.meta.url), count: 1 } });
  await server.listen(0);
  expect(await server.mutate('named-js', 'add', { id: 'x', client: 'server' })).toMatchObject({ lsn: expect.any(Number) });
});

test('a module the workers cannot load fails listen() with its reason', async () => {
  const { logger } = memoryLogger();
  const server = each.create({ logger, workers: { module: join(each.dataDir, 'missing.ts'), count: 1 } });
  await expect(server.listen(0)).rejects.toMatchObject({ code: 'reducers_not_found', message: expect.stringContaining('missing.ts does not exist') });
});

test("after a crash the document matches its log, though the worker's SQLite connections were closed for it (a close can checkpoint)", async () => {
  const { url } = await start();
  const [docId] = docsOn(0, 1, 'torn');
  const { lsn } = await each.server.mutate(docId!, 'add', { id: 'before', client: 'server' });
  // The worker dies right after this commit, mostly before the log made it durable: the caller cannot know.
  await expect(each.server.mutate(docId!, 'addThenCrash', { id: 'maybe' })).rejects.toMatchObject({ code: 'outcome_unknown' });
  const reader = each.client(url, docId!, 'reader');
  await reader.synced();
  const rows = ids(await reader.query<{ id: string }>('SELECT id FROM items'));
  // In the log (and so at the next LSN), or in neither: never in the database alone.
  const after = (await each.server.snapshot(docId!)).lsn;
  expect({ rows, lsn: after }).toEqual(rows.includes('maybe') ? { rows: ['before', 'maybe'], lsn: lsn + 1 } : { rows: ['before'], lsn });
});

test('a module that exports another app than `reducers` fails listen() saying so', async () => {
  const { logger } = memoryLogger();
  // The notes app is version 2; `reducers` here is version 1.
  const server = each.create({ logger, workers: { module: new URL('../../test/fixtures/notes-app.ts', import.meta.url), count: 1 } });
  await expect(server.listen(0)).rejects.toThrow(/exports app version 2, but `reducers` is app version 1 — make the module export the reducers you pass/);
});

test('a module with the same app version but other reducers than `reducers` fails listen() naming them', async () => {
  const { logger } = memoryLogger();
  const { spin: _spin, ...others } = app.definitions;
  const fewer = defineApp({ version: 1, migrations: migrationsOf(app), reducers: { ...others, extra: () => {} } });
  const other = createSyncServer({ reducers: fewer, dataDir: each.dataDir, logger, workers: { module: APP_MODULE, count: 1 } });
  await expect(other.listen(0)).rejects.toThrow(/defines other reducers than `reducers` \(missing "extra", extra "spin"\)/);
  await other.close();
});

test('close() drains the workers: server-side mutations in flight finish and are durable, and the documents close cleanly', async () => {
  await start();
  const docs = [...docsOn(0, 2, 'drain'), ...docsOn(1, 2, 'drain')];
  for (const docId of docs) await each.server.mutate(docId, 'add', { id: 'first', client: 'server' });
  const inFlight = docs.flatMap((docId) => Array.from({ length: 25 }, (_, n) => each.server.mutate(docId, 'add', { id: `n-${n}`, client: 'server' })));
  // Once the calls are on their way to the workers (a call after close() starts is refused, as on one thread).
  await new Promise((resolve) => setImmediate(resolve));
  await each.server.close();
  const outcomes = await Promise.allSettled(inFlight);
  expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
  // A clean close checkpoints: every commit is in the database file, no WAL is left.
  for (const docId of docs) expect(existsSync(join(each.dataDir, docId, 'document.sqlite-wal')) ? statSync(join(each.dataDir, docId, 'document.sqlite-wal')).size : 0).toBe(0);
  for (const docId of docs) {
    const db = new Database(join(each.dataDir, docId, 'document.sqlite'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM items').get()).toEqual({ n: 26 });
    db.close();
  }
});
