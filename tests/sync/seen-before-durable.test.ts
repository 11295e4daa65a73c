import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { type CommitRecord, FileCommitLog, createSyncServer, createLogger, type SyncServer } from '@quire/server';
import { serverQuery } from '../helpers/server-rows.js';
import { waitFor } from '../helpers/wait-for.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, author TEXT)'),
  add: (tx, { id }: { id: string }, ctx) => tx.exec('INSERT INTO notes (id, author) VALUES (?, ?)', [id, ctx.clientId]),
});

/** Appends that wait here while `holding`: the test fails them, as a crash before durability would lose them. */
const held: Array<{ lsns: number[]; fail(error: Error): void }> = [];
let holding = false;

function heldLog(dir: string): FileCommitLog {
  const log = new FileCommitLog(dir);
  const append = log.append.bind(log);
  log.append = (records: readonly CommitRecord[]) =>
    holding ? new Promise<void>((_, reject) => void held.push({ lsns: records.map((r) => r.lsn), fail: reject })) : append(records);
  return log;
}

let dataDir: string;
const servers: SyncServer<typeof reducers>[] = [];
const clients: QuireClient<typeof reducers>[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  holding = false;
  for (const h of held.splice(0)) h.fail(new Error('test over'));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(port = 0): Promise<{ url: string; port: number; server: SyncServer<typeof reducers> }> {
  // The server stops the document on purpose: its error log is expected.
  const server = createSyncServer({ reducers, dataDir, logger: createLogger({ level: 'silent' }), commitLog: (_docId, dir) => heldLog(dir) });
  servers.push(server);
  return { ...(await server.listen(port)), server };
}

function client(url: string, clientId: string): QuireClient<typeof reducers> {
  const c = createClient({ url, docId: 'doc', reducers, clientId, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  clients.push(c);
  return c;
}

const notes = async (c: QuireClient<typeof reducers>) => (await c.query<{ id: string }>('SELECT id FROM notes ORDER BY id')).map((r) => r.id);

test('crash before durable: two clients see a commit the log never makes durable; after the restart both return to the durable state, and the writer\'s mutation lands once and settles once', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-seen-'));
  const first = await startServer();
  const writer = client(first.url, 'writer');
  const reader = client(first.url, 'reader');
  await writer.mutate.init().server;
  await writer.mutate.add({ id: 'durable' }).server;
  await waitFor(() => reader.status().lsn === 2 && reader.status().durableLsn === 2, 'the reader to have LSN 2, durable');

  // Commit 3 is applied and broadcast; its append never finishes.
  holding = true;
  const settlements: Array<{ lsn: number } | string> = [];
  writer.mutate.add({ id: 'seen' }).server.then(
    (result) => void settlements.push(result),
    (error: { code?: string }) => void settlements.push(error.code ?? 'error'),
  );
  await waitFor(() => reader.status().lsn === 3, 'the reader to see commit 3 before it is durable');
  expect(held.map((h) => h.lsns)).toEqual([[3]]);
  // A commit of the writer's calls alone reaches the writer once durable (it shows them already): not yet.
  expect(writer.status().lsn).toBe(2);
  expect(await notes(reader)).toEqual(['durable', 'seen']);
  for (const c of [writer, reader]) expect(c.status().durableLsn).toBe(2);
  // Not durable, so not confirmed: the writer's call stays pending.
  expect(writer.status().pending).toBe(1);
  expect(settlements).toEqual([]);

  // The writer goes offline first, so the reader's return to the durable state can be seen alone.
  writer.disconnect();
  held[0]!.fail(new Error('the server died before the commit was durable'));
  holding = false;
  held.length = 0;
  await waitFor(() => reader.status().connection !== 'connected', 'the reader to lose the stopped document');
  await first.server.close();
  const second = await startServer(first.port);
  await waitFor(() => reader.status().connection === 'connected' && reader.status().lsn === 2, 'the reader to return to LSN 2');
  expect(reader.status().durableLsn).toBe(2);
  expect(await notes(reader)).toEqual(['durable']);
  expect(settlements).toEqual([]);

  // The writer comes back: its pending call replays and is resent, and lands once.
  writer.connect();
  await waitFor(() => settlements.length > 0, "the writer's call to settle");
  await waitFor(async () => (await notes(reader)).includes('seen'), 'the reader to see the resent call');
  await writer.synced();
  await reader.synced();
  const { lsn } = await second.server.snapshot('doc');
  expect(settlements).toEqual([{ lsn }]);
  for (const c of [writer, reader]) {
    expect(await notes(c)).toEqual(['durable', 'seen']);
    // The reader waits on nothing: it hears the log is durable from a later commit, or shortly after.
    await waitFor(() => c.status().durableLsn === lsn, 'the commit to be durable on each client');
    expect(c.status()).toMatchObject({ lsn, durableLsn: lsn, pending: 0 });
  }
  const { results } = await serverQuery(second.server, 'doc', ["SELECT count(*) AS n FROM notes WHERE id = 'seen'"]);
  expect(results[0]).toEqual([{ n: 1 }]);
  expect(settlements).toHaveLength(1);
});
