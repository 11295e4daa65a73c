import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { type Migration, PROTOCOL_VERSION, type QuireClient, type Reducers, createClient, defineApp } from '@quire/core';
import { createSyncServer, type SyncServer } from '@quire/server';
import { notesV1, notesV2 } from '../helpers/notes-app.js';
import { openRaw } from '../helpers/raw-socket.js';
import { expectSamePages, waitForSettled } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { memoryLogger } from '../../packages/server/test/memory-logger.js';

const DOC = 'notes';

let dataDir = '';
let server: SyncServer<Reducers> | undefined;
const clients: QuireClient<Reducers>[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = '';
});

/** (Re)starts the server on `dataDir` with `app`, on `port` (0: a free one). */
async function serve(app: Reducers, port = 0, logger = memoryLogger().logger): Promise<{ url: string; port: number }> {
  await server?.close();
  server = createSyncServer({ reducers: app, dataDir, logger });
  return server.listen(port);
}

function client<R extends Reducers>(url: string, reducers: R, options: { partial?: boolean } = {}): QuireClient<R> {
  const c = createClient({ url, docId: DOC, reducers, reconnect: { minDelayMs: 10, maxDelayMs: 100 }, ...options });
  clients.push(c as unknown as QuireClient<Reducers>);
  return c;
}

const columns = (c: QuireClient<Reducers>) => c.query<{ name: string }>("SELECT name FROM pragma_table_info('notes') ORDER BY cid").then((rows) => rows.map((r) => r.name));

test('connected clients, full and partial, receive the migration\'s pages when the server reopens the document with a new migration', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-migration-sync-'));
  const { url, port } = await serve(notesV1);
  const full = client(url, notesV1);
  const partial = client(url, notesV1, { partial: true });
  await full.mutate.addNote({ id: 'a', title: 'first' }).server;
  await waitForSettled(full, server!, DOC);
  await waitForSettled(partial, server!, DOC);
  expect(await columns(full)).toEqual(['id', 'title']);
  const before = full.status().lsn;

  // Redeployed with v2: the first hello reopens the document, which runs the new step as the next commit.
  await serve(notesV2, port);
  await waitFor(() => full.status().lsn === before + 1 && partial.status().lsn === before + 1, `both clients at LSN ${before + 1} (${full.status().lsn}, ${partial.status().lsn})`);
  expect((await server!.snapshot(DOC)).lsn).toBe(before + 1);
  for (const c of [full, partial]) {
    expect(await columns(c)).toEqual(['id', 'title', 'done']);
    expect(await c.query('SELECT id, title, done FROM notes')).toEqual([{ id: 'a', title: 'first', done: 0 }]);
    expect(await c.query('SELECT version FROM __quire_schema ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
  }
  await expectSamePages(full, server!, DOC);
});

test('a migration that fails: clients are welcomed, hear migration_failed (not fatal), and their mutations apply at the old schema', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-migration-sync-'));
  await serve(notesV1);
  await server!.snapshot(DOC);
  const broken: Migration = (tx) => {
    tx.exec('ALTER TABLE notes ADD COLUMN done INTEGER');
    tx.exec('INSERT INTO no_such_table VALUES (1)');
  };
  const app = defineApp({ version: 2, migrations: [...notesV1.migrations, broken], reducers: { addNote: notesV1.definitions.addNote } });
  const memory = memoryLogger();
  const { url } = await serve(app, 0, memory.logger);
  const c = client(url, app);
  await waitFor(() => c.status().lastError?.code === 'migration_failed', `migration_failed in the client's status (${JSON.stringify(c.status())})`);
  expect(c.status().lastError!.message).toMatch(/^migration 3 of 3 failed on document "notes": no such table: no_such_table — .*stays at schema version 2 and keeps serving/);
  await c.mutate.addNote({ id: 'b', title: 'still works' }).server;
  expect(await columns(c)).toEqual(['id', 'title']);
  expect(await c.query('SELECT title FROM notes')).toEqual([{ title: 'still works' }]);
  const logged = memory.lines.find((l) => l.msg.startsWith('migration failed'));
  expect(logged).toMatchObject({ level: 50, docId: DOC, step: 3, schemaVersion: 2 });
});

test('a document a newer app migrated: an older server refuses it with schema_too_new on every attempt, and the client waits until a newer server is back', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-migration-sync-'));
  await serve(notesV2);
  await server!.mutate(DOC, 'addNote', { id: 'a', title: 'from v2' });
  const memory = memoryLogger();
  const { url, port } = await serve(notesV1, 0, memory.logger);

  // Every attempt, also those the server's reopen backoff refuses without opening, says why.
  for (let i = 0; i < 3; i++) {
    const raw = await openRaw(url, DOC);
    raw.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 1, clientId: `raw${i}`, lastLsn: 0, fromSeq: 0, partial: false, held: [] });
    const error = await raw.next('error');
    expect(error).toMatchObject({ code: 'schema_too_new', fatal: true });
    expect(error.message).toMatch(/schema version 3, but this server's app \(version 1\) declares 2 migration\(s\)/);
    await raw.close();
  }
  expect(memory.lines.filter((l) => l.level >= 50)).toEqual([]);
  expect(memory.lines.some((l) => l.level === 40 && /schema version 3/.test(l.msg))).toBe(true);

  const c = client(url, notesV1);
  await waitFor(() => c.status().lastError?.code === 'schema_too_new', `schema_too_new in the client's status (${JSON.stringify(c.status())})`);
  expect(c.status().connection).not.toBe('connected');

  // The newer server is back on the same address: the client gets in.
  await serve(notesV2, port);
  await waitFor(() => c.status().lastError === undefined && c.status().lsn === 2, `the client on the v2 server (${JSON.stringify(c.status())})`);
  expect(await c.query('SELECT title, done FROM notes')).toEqual([{ title: 'from v2', done: 0 }]);
});
