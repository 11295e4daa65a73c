import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, expect, test } from 'vitest';
import { createClient, defineApp, defineReducers } from '@quire/core';
import { createSyncServer, type SyncServer } from './sync-server.js';
import { LEVEL, memoryLogger } from '../test/memory-logger.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY)'),
  add: (tx, { id }: { id: string }) => {
    if (!id) throw new Error('a note needs an id');
    tx.exec('INSERT INTO notes (id) VALUES (?)', [id]);
  },
});

let server: SyncServer<typeof reducers> | undefined;
let dataDir = '';

afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(idleCloseMs = 30_000) {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-logging-'));
  const memory = memoryLogger();
  server = createSyncServer({ reducers, dataDir, logger: memory.logger, idleCloseMs });
  const { url } = await server.listen(0);
  return { ...memory, url };
}

test("the server logs to the app's pino logger: start, connections and closes with reasons, rejections by code, documents opened and closed", async () => {
  const { lines, url } = await start(20);
  const find = (msg: string | RegExp) => lines.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));

  expect(find(/^listening on ws:\/\/127\.0\.0\.1:\d+ \(health checks: GET http:\/\/127\.0\.0\.1:\d+\/healthz, metrics: GET http:\/\/127\.0\.0\.1:\d+\/metrics\)$/)).toEqual([expect.objectContaining({ level: LEVEL.info, url, dataDir })]);

  const alice = createClient({ url, docId: 'doc', reducers, clientId: 'alice' });
  alice.mutate.init();
  await alice.mutate.add({ id: 'one' }).server;
  await expect(alice.mutate.add({ id: '' }).server).rejects.toMatchObject({ code: 'reducer_error' });
  await alice.close();

  // Bad input: a text frame ends the connection with a reason.
  const raw = new WebSocket(`${url}/?doc=doc`);
  await new Promise((resolve) => raw.once('open', resolve));
  raw.send('hello?');
  await new Promise((resolve) => raw.once('close', resolve));
  // A refused upgrade.
  const bad = new WebSocket(`${url}/?doc=${encodeURIComponent('no/slashes')}`);
  bad.on('error', () => {});
  await new Promise((resolve) => bad.once('close', resolve));

  await expect.poll(() => find('document closed (idle)').length).toBe(1);
  expect(find('document opened')).toEqual([expect.objectContaining({ level: LEVEL.info, docId: 'doc', lsn: 0 })]);
  expect(find('client connected')).toEqual([expect.objectContaining({ docId: 'doc', clientId: 'alice', lastLsn: 0, partial: false })]);
  expect(find('mutation rejected: reducer_error')).toEqual([expect.objectContaining({ docId: 'doc', clientId: 'alice', seq: 3, reducer: 'add', code: 'reducer_error' })]);
  expect(find(/^closing the connection: text frames/)).toEqual([expect.objectContaining({ docId: 'doc', code: 'malformed_frame', fatal: true })]);
  // In either order: alice's close frame and the bad frame race to the server.
  await expect.poll(() => find('connection closed').map((l) => [l.clientId, l.code, l.reason]).sort((x, y) => Number(x[1]) - Number(y[1]))).toEqual([
    ['alice', 1000, 'client stopped'],
    [undefined, 4400, 'malformed_frame'],
  ]);
  expect(find(/^connection refused/)).toEqual([expect.objectContaining({ docId: 'no/slashes', code: 'invalid_doc_id' })]);
  expect(find('document closed (idle)')).toEqual([expect.objectContaining({ docId: 'doc', lsn: 2 })]);
  // Nothing here is a warning or an error.
  expect(lines.filter((l) => l.level >= LEVEL.warn)).toEqual([]);
});

test('/healthz answers 200 with the open documents and connections', async () => {
  const { url } = await start();
  const health = async () => {
    const res = await fetch(url.replace(/^ws/, 'http') + '/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    return res.json();
  };
  expect(await health()).toEqual({ ok: true, documents: 0, connections: 0 });
  const alice = createClient({ url, docId: 'doc', reducers, clientId: 'alice' });
  try {
    alice.mutate.init();
    await alice.mutate.add({ id: 'one' }).server;
    expect(await health()).toEqual({ ok: true, documents: 1, connections: 1 });
    expect(server!.health()).toEqual({ ok: true, documents: 1, connections: 1 });
  } finally {
    await alice.close();
  }
});

test('createSyncServer refuses an app passed under another name with reducers_not_found', () => {
  expect(() => createSyncServer({ app: defineReducers({}), dataDir: '/nonexistent' } as never)).toThrow(
    expect.objectContaining({ code: 'reducers_not_found', message: expect.stringMatching(/createSyncServer needs the app as `reducers`.*options given: app, dataDir/) }),
  );
});

test('a migration step that fails on an empty database is logged when the server starts, and the server still starts', async () => {
  const memory = memoryLogger();
  const app = defineApp({ version: 1, migrations: ['CREATE TABLE t (x)', 'ALTER TABLE missing ADD COLUMN y'], reducers: {} });
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-rehearse-'));
  const server = createSyncServer({ reducers: app, dataDir, logger: memory.logger });
  try {
    const line = memory.lines.find((l) => l.msg.startsWith("the app's migrations fail on a new, empty document"));
    expect(line).toMatchObject({ level: LEVEL.error, code: 'migration_failed' });
    expect(line!.msg).toMatch(/migration 2 of 2 failed .*no such table: missing/);
    await server.listen(0);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
