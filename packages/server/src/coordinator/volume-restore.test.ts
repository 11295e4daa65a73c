import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { FileCommitLog } from '../log/file-commit-log.js';
import { createSyncServer, type SyncServer } from '../sync-server.js';
import { memoryLogger } from '../../test/memory-logger.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, body TEXT)'),
  add: (tx, { id, body }: { id: string; body: string }) => tx.exec('INSERT INTO notes (id, body) VALUES (?, ?)', [id, body]),
  fail: () => {
    throw new Error('refused on purpose');
  },
});

let dataDir: string;
let server: SyncServer<typeof reducers> | undefined;
let memory: ReturnType<typeof memoryLogger>;
const clients: QuireClient<typeof reducers>[] = [];
const docDir = () => join(dataDir, 'doc');

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-restore-'));
  memory = memoryLogger('debug');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** Small numbers, so a few dozen commits make several checkpoints and compactions. */
async function start(): Promise<string> {
  server = createSyncServer({ reducers, dataDir, logger: memory.logger, compaction: { checkpointEveryCommits: 5, retainCommits: 3 } });
  return (await server.listen(0)).url;
}

async function stop(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
}

function client(url: string, clientId: string): QuireClient<typeof reducers> {
  const c = createClient({ url, docId: 'doc', reducers, clientId });
  clients.push(c);
  return c;
}

async function notes(c: QuireClient<typeof reducers>): Promise<string[]> {
  await c.synced();
  return (await c.query<{ id: string }>('SELECT id FROM notes ORDER BY id')).map((r) => r.id);
}

async function writeNotes(url: string, from: number, to: number): Promise<void> {
  const alice = client(url, `alice-${from}`);
  alice.mutate.init();
  // One commit each: awaited one by one.
  for (let i = from; i <= to; i++) await alice.mutate.add({ id: `n${String(i).padStart(3, '0')}`, body: `note ${i}` }).server;
  await alice.mutate.add({ id: `last-${to}`, body: '' }).server;
}

const expected = (to: number, lasts: number[]) => [...lasts.map((l) => `last-${l}`), ...Array.from({ length: to }, (_, i) => `n${String(i + 1).padStart(3, '0')}`)].sort();

test("a document whose database file and WAL were deleted opens from its log's checkpoint and later commits: same rows, clients converge", async () => {
  let url = await start();
  await writeNotes(url, 1, 40);
  await stop();
  const log = new FileCommitLog(docDir(), { readOnly: true });
  const summary = await log.open();
  await log.close();
  // Compaction ran: the first commits are gone, so only the checkpoint can rebuild the file.
  expect(summary.firstLsn).toBeGreaterThan(1);
  expect(summary.checkpoint).not.toBeNull();
  for (const name of ['document.sqlite', 'document.sqlite-wal', 'document.sqlite-shm']) rmSync(join(docDir(), name), { force: true });

  url = await start();
  const bob = client(url, 'bob');
  expect(await notes(bob)).toEqual(expected(40, [40]));
  expect(memory.lines.some((l) => l.msg === 'volume rebuilt from the commit log')).toBe(true);
  // The rebuilt document takes new work, and every client sees the same.
  await bob.mutate.add({ id: 'after', body: 'restore' }).server;
  const carol = client(url, 'carol');
  expect(await notes(carol)).toEqual([...expected(40, [40]), 'after'].sort());
  expect(await notes(bob)).toEqual(await notes(carol));
});

test('a database file left behind by the log (an old copy) is rebuilt, not trusted', async () => {
  let url = await start();
  await writeNotes(url, 1, 12);
  await stop();
  const old = mkdtempSync(join(tmpdir(), 'quire-old-volume-'));
  for (const name of readdirSync(docDir())) if (name.startsWith('document.')) cpSync(join(docDir(), name), join(old, name));

  url = await start();
  await writeNotes(url, 13, 30);
  await stop();
  // The node's cache goes back to the old copy: its sidecar names an older commit than the log's last.
  for (const name of readdirSync(docDir())) if (name.startsWith('document.')) rmSync(join(docDir(), name));
  for (const name of readdirSync(old)) cpSync(join(old, name), join(docDir(), name));
  rmSync(old, { recursive: true, force: true });

  url = await start();
  expect(await notes(client(url, 'bob'))).toEqual(expected(30, [12, 30]));
  expect(memory.lines.some((l) => l.msg === 'volume rebuilt from the commit log')).toBe(true);
});

test("a data folder written before segments and checkpoints (today's commits.qlog) opens with nothing lost, then gets a checkpoint", async () => {
  // Written by the server as it was before this change (see test/fixtures/pre-segment-log).
  cpSync(join(import.meta.dirname, '../../test/fixtures/pre-segment-log'), docDir(), { recursive: true });
  const url = await start();
  const bob = client(url, 'bob');
  expect(await notes(bob)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i + 1}`).sort());
  expect(readdirSync(join(docDir(), 'checkpoints'))).toHaveLength(1);
  await bob.mutate.add({ id: 'new', body: '' }).server;
  await stop();

  // With a checkpoint it no longer needs its database file.
  for (const name of ['document.sqlite', 'document.sqlite-wal', 'document.mark']) rmSync(join(docDir(), name), { force: true });
  const again = await start();
  expect(await notes(client(again, 'carol'))).toEqual([...Array.from({ length: 20 }, (_, i) => `n${i + 1}`), 'new'].sort());
});

test('a checkpoint that fails its checksum stops the document with corrupt_log and leaves every file as it was', async () => {
  let url = await start();
  await writeNotes(url, 1, 8);
  await stop();
  const checkpoints = join(docDir(), 'checkpoints');
  const [name] = readdirSync(checkpoints);
  const file = join(checkpoints, name!);
  const bytes = readFileSync(file);
  bytes[bytes.length - 20]! ^= 0x01;
  writeFileSync(file, bytes);
  const before = snapshotFiles(docDir());

  url = await start();
  await expect(server!.mutate('doc', 'add', { id: 'x', body: '' })).rejects.toMatchObject({ code: 'corrupt_log' });
  await stop();
  expect(snapshotFiles(docDir())).toEqual(before);
});

function snapshotFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'server.lock') continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length)] = readFileSync(path).toString('base64');
  }
  return out;
}

test('a second server on the same data folder is refused with document_locked while the first has the document open', async () => {
  const url = await start();
  await writeNotes(url, 1, 2);
  const second = createSyncServer({ reducers, dataDir, logger: memory.logger });
  try {
    await expect(second.mutate('doc', 'add', { id: 'x', body: '' })).rejects.toMatchObject({ code: 'document_locked' });
  } finally {
    await second.close();
  }
  expect(existsSync(join(docDir(), 'server.lock'))).toBe(true);
});
