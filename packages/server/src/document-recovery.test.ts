import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import type { CommitLog, CommitRecord } from './log/commit-log.js';
import { FileCommitLog } from './log/file-commit-log.js';
import { createSyncServer, type SyncServer } from './sync-server.js';
import { LEVEL, memoryLogger } from '../test/memory-logger.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, author TEXT)'),
  add: (tx, { id }: { id: string }, ctx) => tx.exec('INSERT INTO notes (id, author) VALUES (?, ?)', [id, ctx.clientId]),
});

/** The file log, but the next `failures` appends throw (before or after writing), like a full or failing disk. */
class FlakyLog extends FileCommitLog {
  static failures = 0;
  static afterWriting = false;
  override async append(records: readonly CommitRecord[]): Promise<void> {
    if (FlakyLog.failures === 0) return super.append(records);
    FlakyLog.failures--;
    if (FlakyLog.afterWriting) await super.append(records);
    throw new Error('the disk is on fire');
  }
}

let dataDir: string;
let server: SyncServer<typeof reducers>;
let url: string;
let memory: ReturnType<typeof memoryLogger>;
const clients: QuireClient<typeof reducers>[] = [];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-recovery-'));
  memory = memoryLogger();
  FlakyLog.failures = 0;
  FlakyLog.afterWriting = false;
  server = createSyncServer({ reducers, dataDir, logger: memory.logger, commitLog: (_docId, dir): CommitLog => new FlakyLog(dir) });
  ({ url } = await server.listen(0));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function client(clientId: string): QuireClient<typeof reducers> {
  const c = createClient({ url, docId: 'doc', reducers, clientId, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  clients.push(c);
  return c;
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test.each([
  ['before it wrote anything', false],
  ['after it wrote the commit', true],
])('a document whose log append fails (%s) reopens from its log on the next connection, losing nothing acknowledged', async (_, afterWriting) => {
  const alice = client('alice');
  const errors: string[] = [];
  alice.subscribeStatus((s) => s.lastError && errors.push(s.lastError.code));
  alice.mutate.init();
  await alice.mutate.add({ id: 'one' }).server;

  // A server-side call alone in the failing batch: nobody resends it.
  FlakyLog.failures = 1;
  FlakyLog.afterWriting = afterWriting;
  await expect(server.mutate('doc', 'add', { id: 'never acknowledged' })).rejects.toMatchObject({ code: 'server_error' });
  await waitFor(() => errors.includes('server_error'), 'alice to be told server_error');

  // Alice reconnects, and the document takes work again.
  let two = false;
  void alice.mutate.add({ id: 'two' }).server.then(() => (two = true));
  await waitFor(() => two, "alice's next mutation to be applied: the document must reopen");

  // A client's call in a failing batch: the client resends it, and it lands once.
  FlakyLog.failures = 1;
  let three = false;
  void alice.mutate.add({ id: 'three' }).server.then(() => (three = true));
  await waitFor(() => errors.filter((e) => e === 'server_error').length >= 2, 'alice to be told server_error again');
  await waitFor(() => three, "alice's resent mutation to be applied");

  const bob = client('bob');
  const notes = async () => (await bob.query<{ id: string }>('SELECT id FROM notes ORDER BY id')).map((r) => r.id);
  await waitFor(async () => bob.status().connection === 'connected' && (await notes()).length >= 3, 'bob to see the notes');
  // The failed commit may have become durable after all when the log wrote it: then it is there, once.
  expect(await notes()).toEqual(afterWriting ? ['never acknowledged', 'one', 'three', 'two'] : ['one', 'three', 'two']);
  expect(await alice.query<{ id: string }>('SELECT id FROM notes ORDER BY id')).toEqual((await notes()).map((id) => ({ id })));

  const stopped = memory.lines.filter((l) => l.level === LEVEL.error && l.msg.startsWith('document stopped'));
  expect(stopped).toHaveLength(2);
  expect(stopped[0]).toMatchObject({ docId: 'doc', err: { message: 'the disk is on fire' }, failures: 1 });
  expect(stopped[1]).toMatchObject({ docId: 'doc', failures: 2 });
});

test('a document that lost commits its clients were told of (a folder restored from a backup) takes their work again, and they start over from its state', async () => {
  const alice = client('alice');
  alice.mutate.init();
  await alice.mutate.add({ id: 'one' }).server;
  const port = Number(new URL(url).port);
  const restart = async (restore?: string) => {
    await server.close();
    if (restore) {
      rmSync(join(dataDir, 'doc'), { recursive: true, force: true });
      cpSync(restore, join(dataDir, 'doc'), { recursive: true });
    }
    server = createSyncServer({ reducers, dataDir, logger: memory.logger });
    await server.listen(port);
  };

  // The backup: alice's seqs 1 and 2 are in it.
  await restart();
  const backup = mkdtempSync(join(tmpdir(), 'quire-backup-'));
  cpSync(join(dataDir, 'doc'), backup, { recursive: true });
  await waitFor(() => alice.status().connection === 'connected', 'alice to reconnect');
  await alice.mutate.add({ id: 'two' }).server;
  const { lsn: seen } = await alice.mutate.add({ id: 'three' }).server;
  await waitFor(() => alice.status().lsn === seen, `alice to reach LSN ${seen}`);

  // The folder is restored; while alice is away, the document reaches her LSN again by other commits.
  alice.disconnect();
  await restart(backup);
  rmSync(backup, { recursive: true, force: true });
  for (let i = 1; (await server.mutate('doc', 'add', { id: `server ${i}` })).lsn < seen; i++);
  // Alice's next call has seq 5; the document last saw her seq 2.
  let four: unknown;
  alice.mutate.add({ id: 'four' }).server.then((r) => (four = r), (e: unknown) => (four = e));
  alice.connect();
  await waitFor(() => four !== undefined, "alice's call to be applied (refused as a seq gap, it would be resent forever)");
  expect(four).toEqual({ lsn: seen + 1 });

  // Her replica is the document's (her LSN, in the history the document lost, was another state).
  const rows = async (c: QuireClient<typeof reducers>) => (await c.query<{ id: string }>('SELECT id FROM notes ORDER BY id')).map((r) => r.id);
  await waitFor(() => alice.status().lsn === seen + 1, 'alice to reach the new LSN');
  const bob = client('bob');
  await waitFor(() => bob.status().lsn === seen + 1, 'bob to reach it');
  expect(await rows(bob)).toEqual(['four', 'one', 'server 1', 'server 2']);
  expect(await rows(alice)).toEqual(await rows(bob));
  expect(memory.lines.filter((l) => l.level === LEVEL.error && l.msg.includes('lost commits'))).toMatchObject([{ docId: 'doc', clientId: 'alice', fromSeq: 5, expectedSeq: 3 }]);
});
