import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { defineReducers } from '@quire/core';
import { decodeServerMessage, type Mutation, type ServerMessage } from '@quire/core/protocol';
import type { CommitRecord } from '../log/commit-log.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import { memoryLogger, silentLogger } from '../../test/memory-logger.js';
import { Coordinator, type Peer } from './coordinator.js';
import { DURABLE_NOTICE_DELAY_MS } from './durable-notices.js';

const reducers = defineReducers({
  add: (tx, { n }: { n: number }) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (n INTEGER)');
    tx.exec('INSERT INTO items VALUES (?)', [n]);
  },
});

/** The real file log, with each append held until the test releases (or fails) it. */
function heldLog(dir: string) {
  const log = new FileCommitLog(dir);
  const append = log.append.bind(log);
  const held: Array<{ lsns: number[]; release(): void; fail(error: Error): void }> = [];
  let holding = true;
  log.append = (records: readonly CommitRecord[]) =>
    holding
      ? new Promise<void>((resolve, reject) => {
          held.push({ lsns: records.map((r) => r.lsn), release: () => void append(records).then(resolve, reject), fail: reject });
        })
      : append(records);
  /** Stops holding: what is held now and every later append go through (for the test's cleanup). */
  const passThrough = () => {
    holding = false;
    for (const h of held.splice(0)) h.release();
  };
  return { log, held, passThrough };
}

function peer(clientId: string) {
  const frames: Uint8Array[] = [];
  const errors: string[] = [];
  const p: Peer = { clientId, userId: undefined, maxMessageBytes: 1 << 20, send: (frame) => void frames.push(frame.bytes), sendError: (code) => void errors.push(code) };
  const messages = (): ServerMessage[] => frames.map((f) => decodeServerMessage(f));
  const said = () =>
    messages().map((m) => (m.type === 'commit' || m.type === 'durable' || m.type === 'welcome' || m.type === 'pages' || m.type === 'snapshot' ? `${m.type} ${m.lsn}` : m.type));
  return { p, frames, errors, said };
}

const add = (seq: number): Mutation => ({ seq, name: 'add', args: JSON.stringify({ json: { n: seq } }) });
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Waits (in event-loop turns, the file log's fsync included) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(done()).toBe(true);
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test('a commit is broadcast while its append is held; `durable` follows on the same socket once it is in the log; server mutate(), joins and page reads wait for durability', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-durable-'));
  dirs.push(dir);
  const { log, held, passThrough } = heldLog(join(dir, 'log'));
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log, logger: silentLogger });
  const [a, b, c] = [peer('a'), peer('b'), peer('c')];
  try {
    coordinator.join(a.p, 0, 0);
    coordinator.join(b.p, 0, 0);
    await turns();
    expect(b.said()).toEqual(['welcome 0', 'snapshot 0']);
    b.frames.length = 0;

    coordinator.push(a.p, [add(1)]);
    await turns();
    // Seen before durable: the commit is out, its append is still held.
    expect(held.map((h) => h.lsns)).toEqual([[1]]);
    expect(b.said()).toEqual(['commit 1']);
    expect(coordinator.lsn).toBe(1);
    expect(coordinator.durableLsn).toBe(0);

    // Two more commits while the first append is held: both wait for one append (the group commit).
    let confirmed: { lsn: number } | undefined;
    void coordinator.mutate('add', JSON.stringify({ json: { n: 100 } })).then((r) => (confirmed = r));
    await turns();
    coordinator.push(a.p, [add(2)]);
    await turns();
    expect(b.said()).toEqual(['commit 1', 'commit 2', 'commit 3']);
    // Work that must see durable state waits: a join and a page read.
    coordinator.join(c.p, 0, 0);
    coordinator.readPages(b.p, 7, [1]);
    await turns();
    expect(c.said()).toEqual([]);
    expect(b.said()).toEqual(['commit 1', 'commit 2', 'commit 3']);

    held[0]!.release();
    await until(() => held.length === 2);
    await turns();
    // The writer of commit 1 hears at once; b, which waits on nothing, is told later (see the next test).
    expect(a.said().slice(-1)).toEqual(['durable 1']);
    expect(b.said()).toEqual(['commit 1', 'commit 2', 'commit 3']);
    expect(held.map((h) => h.lsns)).toEqual([[1], [2, 3]]);
    expect(confirmed).toBeUndefined();
    expect(c.said()).toEqual([]);

    held[1]!.release();
    await until(() => c.said().length > 0);
    expect(coordinator.durableLsn).toBe(3);
    expect(confirmed).toEqual({ lsn: 2 });
    // The page answer comes after the `durable` message for its LSN; the joiner is welcomed at it.
    expect(b.said()).toEqual(['commit 1', 'commit 2', 'commit 3', 'durable 3', 'pages 3']);
    expect(c.said()).toEqual(['welcome 3', 'snapshot 3']);
  } finally {
    passThrough();
    await coordinator.close();
  }
});

test('an append that fails stops the document: clients get server_error, a server mutation applied in that commit is refused, and reopening goes back to the durable LSN', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-durable-'));
  dirs.push(dir);
  const { log, held } = heldLog(join(dir, 'log'));
  let closed: Promise<boolean> | undefined;
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log, logger: silentLogger, onFailure: (_, done) => (closed = done) });
  const a = peer('a');
  coordinator.join(a.p, 0, 0);
  await turns();
  coordinator.push(a.p, [add(1)]);
  await turns();
  // a's commit alone: a gets it once durable, saying so.
  expect(a.said()).toEqual(['welcome 0', 'snapshot 0']);
  held[0]!.release();
  await until(() => a.said().includes('commit 1'));
  coordinator.push(a.p, [add(2)]);
  const server = coordinator.mutate('add', JSON.stringify({ json: { n: 100 } }));
  await turns();
  // Commit 2 holds a server mutation too: it goes at once.
  expect(a.said()).toEqual(['welcome 0', 'snapshot 0', 'commit 1', 'commit 2']);
  held[1]!.fail(new Error('disk full'));
  await expect(server).rejects.toMatchObject({ code: 'server_error' });
  expect(a.errors).toEqual(['server_error']);
  expect(await closed).toBe(true);
  await coordinator.close();

  // Commit 2 was seen, never durable: the reopened document does not have it.
  const reopened = await Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger });
  try {
    expect(reopened.lsn).toBe(1);
    expect(reopened.durableLsn).toBe(1);
    const rows = reopened.read((db) => db.prepare('SELECT n FROM items ORDER BY n').pluck().all());
    expect(rows).toEqual([1]);
  } finally {
    await reopened.close();
  }
});

test('on a shared log, a hello from a client that saw commits this node lacks steps the node down to reopen from the log, instead of taking them for lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-durable-'));
  dirs.push(dir);
  const log = new FileCommitLog(join(dir, 'log'));
  // As an S3 log is: other nodes may append to it.
  Object.defineProperty(log, 'shared', { value: true });
  const { logger, lines } = memoryLogger();
  const failures: Error[] = [];
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log, logger, onFailure: (error) => void failures.push(error) });
  const [a, b] = [peer('a'), peer('b')];
  coordinator.join(a.p, 0, 0);
  coordinator.push(a.p, [add(1)]);
  await until(() => coordinator.durableLsn === 1);
  // b saw LSN 5 and had seqs 1 to 3 settled there: commits another node wrote.
  coordinator.join(b.p, 5, 4);
  await until(() => failures.length === 1);
  expect(failures[0]).toMatchObject({ code: 'log_fenced', message: expect.stringContaining('saw LSN 5') });
  expect(b.errors).toEqual(['server_error']);
  expect(a.errors).toEqual(['server_error']);
  expect(lines.filter((l) => l.msg.includes('lost commits'))).toEqual([]);
  await coordinator.close();
});

test('a client waiting on nothing hears how far the log is durable from the next commit, or in a `durable` frame once none came for a while', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-durable-'));
  dirs.push(dir);
  const log = new FileCommitLog(join(dir, 'log'));
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log, logger: silentLogger });
  const [a, b] = [peer('a'), peer('b')];
  const lags = (x: ReturnType<typeof peer>) => x.frames.map((f) => decodeServerMessage(f)).flatMap((m) => (m.type === 'commit' ? [`commit ${m.lsn} durable to ${m.lsn - m.durableLag}`] : m.type === 'durable' ? [`durable ${m.lsn}`] : []));
  // The notice delay's timer stands still until the test moves it; the log's I/O runs as usual.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const settled = async (done: () => boolean) => {
    for (let i = 0; i < 100_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
    expect(done()).toBe(true);
  };
  try {
    coordinator.join(a.p, 0, 0);
    coordinator.join(b.p, 0, 0);
    await turns();
    coordinator.push(a.p, [add(1)]);
    await settled(() => a.said().includes('commit 1'));
    coordinator.push(a.p, [add(2)]);
    await settled(() => a.said().includes('commit 2'));
    // Its writer gets each commit once durable, in one frame.
    expect(lags(a)).toEqual(['commit 1 durable to 1', 'commit 2 durable to 2']);
    // b got no frame of its own for commit 1: commit 2 told it.
    expect(lags(b)).toEqual(['commit 1 durable to 0', 'commit 2 durable to 1']);
    vi.advanceTimersByTime(DURABLE_NOTICE_DELAY_MS - 1);
    expect(lags(b)).toEqual(['commit 1 durable to 0', 'commit 2 durable to 1']);
    vi.advanceTimersByTime(1);
    expect(lags(b)).toEqual(['commit 1 durable to 0', 'commit 2 durable to 1', 'durable 2']);
  } finally {
    vi.useRealTimers();
    await coordinator.close();
  }
});
