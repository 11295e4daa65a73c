import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineReducers } from '@quire/core';
import { decodeServerMessage, type Mutation, type ServerMessage } from '@quire/core/protocol';
import type { CommitLog } from '../log/commit-log.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import { silentLogger } from '../../test/memory-logger.js';
import { Coordinator, type Peer } from './coordinator.js';
import type { ServerFrame } from './server-frame.js';

// `add` creates the table at its first call, so a test starts from an empty document.
const itemReducers = defineReducers({
  add: (tx, { n }: { n: number }) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (n INTEGER)');
    tx.exec('INSERT INTO items VALUES (?)', [n]);
  },
});

test('a document that fails to open closes its commit log (each reconnect retries the open)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  let closed = 0;
  // A log with a commit, next to a volume that never had one: the open must fail.
  const log: CommitLog = {
    open: async () => ({
      last: { lsn: 1, pageCount: 2, settled: [], rejections: [], volume: { salt1: 1, salt2: 2, offset: 4096 } },
      checkpoint: null,
      firstLsn: 1,
      rejections: [],
      recent: [],
    }),
    append: async () => {},
    readAfter: async function* () {},
    writeCheckpoint: async () => {},
    readCheckpoint: async function* () {},
    compact: async () => ({ commitsRemoved: 0, checkpointsRemoved: 0 }),
    close: async () => void closed++,
  };
  try {
    await expect(Coordinator.open({ docId: 'doc', dir, reducers: defineReducers({}), log, logger: silentLogger })).rejects.toMatchObject({ code: 'corrupt_volume' });
    expect(closed).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('push: resends are skipped without asking admit, a held-back mutation stops the push, a gap ends it with seq_gap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  const reducers = itemReducers;
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger });
  const errors: Array<{ code: string; seq: number }> = [];
  const peer: Peer = { clientId: 'a', userId: undefined, maxMessageBytes: 1 << 20, send: () => {}, sendError: (code, _, seq) => void errors.push({ code, seq }) };
  const m = (seq: number): Mutation => ({ seq, name: 'add', args: JSON.stringify({ json: { n: seq } }) });
  const items = async () => {
    await coordinator.snapshot(); // runs between batches: everything queued before it is applied
    return coordinator.read((db) => db.prepare('SELECT n FROM items ORDER BY n').pluck().all());
  };
  try {
    const asked: number[] = [];
    const admitTwo = (x: Mutation) => (asked.push(x.seq), asked.length <= 2);
    expect(coordinator.push(peer, [m(1), m(2), m(3)], 0, admitTwo)).toBe(2);
    expect(asked).toEqual([1, 2, 3]);
    // Going on from the held-back one; 1 and 2 again are resends, not offered to admit.
    asked.length = 0;
    expect(coordinator.push(peer, [m(1), m(2), m(3), m(4)], 0, (x) => (asked.push(x.seq), true))).toBeUndefined();
    expect(asked).toEqual([3, 4]);
    expect(await items()).toEqual([1, 2, 3, 4]);
    // Applied ones are resends too; 7 is a gap and nothing after it is taken.
    expect(coordinator.push(peer, [m(4), m(5), m(7), m(6)])).toBeUndefined();
    expect(errors).toEqual([{ code: 'seq_gap', seq: 7 }]);
    expect(await items()).toEqual([1, 2, 3, 4, 5]);
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a commit\'s rejections go only to the client they belong to, right before the commit; full replicas share one commit frame', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  const reducers = defineReducers({
    add: (tx) => {
      tx.exec('CREATE TABLE IF NOT EXISTS items (n INTEGER)');
      tx.exec('INSERT INTO items VALUES (1)');
    },
    refuse: () => {
      throw new Error('refused');
    },
  });
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger });
  const peer = (clientId: string) => {
    const frames: ServerFrame[] = [];
    const p: Peer = { clientId, userId: undefined, maxMessageBytes: 1 << 20, send: (frame) => void frames.push(frame), sendError: () => {} };
    return { p, frames, messages: (): ServerMessage[] => frames.map((f) => decodeServerMessage(f.bytes)) };
  };
  const call = (seq: number, name: string): Mutation => ({ seq, name, args: JSON.stringify({ json: null }) });
  const [a, b, c] = [peer('a'), peer('b'), peer('c')];
  try {
    coordinator.join(a.p, 0, 0);
    coordinator.join(b.p, 0, 0);
    coordinator.join(c.p, 0, 0, true);
    await coordinator.snapshot();
    for (const x of [a, b, c]) x.frames.length = 0;
    // One batch: a and c each have a call refused, b's is applied.
    coordinator.push(a.p, [call(1, 'add'), call(2, 'refuse')]);
    coordinator.push(b.p, [call(1, 'add')]);
    coordinator.push(c.p, [call(1, 'refuse')]);
    await coordinator.snapshot();
    const commitOf = (x: typeof a) => x.frames.find((f) => f.type === 'commit');
    const [commitA, commitB] = [commitOf(a), commitOf(b)];
    expect(commitA).toBeDefined();
    expect(commitA).toBe(commitB); // the same frame object: encoded once for every full replica
    const own = (x: typeof a) => x.messages().map((m) => (m.type === 'rejections' ? { lsn: m.lsn, of: m.rejections.map((r) => `${r.clientId}:${r.seq}`) } : m.type === 'commit' ? `commit ${m.lsn}` : m.type));
    expect(own(a)).toEqual([{ lsn: 1, of: ['a:2'] }, 'commit 1', 'durable']);
    expect(own(b)).toEqual(['commit 1', 'durable']);
    expect(own(c)).toEqual([{ lsn: 1, of: ['c:1'] }, 'commit 1', 'durable']);
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rejection that left the bounded window reaches its client, even after a restart, as outcome_unknown and never as applied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  const reducers = defineReducers({
    refuse: () => {
      throw new Error('refused');
    },
  });
  const open = () => Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger, compaction: { keepRejections: 1, checkpointEveryCommits: 1, retainCommits: 0 } });
  const peer = (clientId: string) => {
    const messages: ServerMessage[] = [];
    const p: Peer = { clientId, userId: undefined, maxMessageBytes: 1 << 20, send: (frame) => void messages.push(decodeServerMessage(frame.bytes)), sendError: () => {} };
    return { p, messages };
  };
  const call = (seq: number): Mutation => ({ seq, name: 'refuse', args: JSON.stringify({ json: null }) });
  let coordinator = await open();
  try {
    // a's call is refused while a is away; then b's refusal pushes a's record out of the one-record window.
    coordinator.push(peer('a').p, [call(1)]);
    await coordinator.snapshot();
    coordinator.push(peer('b').p, [call(1)]);
    await coordinator.snapshot();
    await coordinator.close();
    // Checkpoints at every commit and no commits kept: the window's state comes back from the checkpoint.
    coordinator = await open();
    const a = peer('a');
    coordinator.join(a.p, 0, 1);
    const b = peer('b');
    coordinator.join(b.p, 0, 1);
    await coordinator.snapshot();
    const welcome = (x: typeof a) => x.messages.find((m) => m.type === 'welcome');
    expect(welcome(a)).toMatchObject({ rejections: [{ seq: 1, code: 'outcome_unknown' }] });
    expect(welcome(b)).toMatchObject({ rejections: [{ seq: 1, code: 'reducer_error' }] });
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a commit goes to the clients that did not write it before its writers: they have yet to see it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  const reducers = itemReducers;
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger });
  const sent: string[] = [];
  const peer = (clientId: string): Peer => ({
    clientId,
    userId: undefined,
    maxMessageBytes: 1 << 20,
    send: (frame) => void (frame.type === 'commit' && sent.push(`${clientId} ${(decodeServerMessage(frame.bytes) as { lsn: number }).lsn}`)),
    sendError: () => {},
  });
  const [a, b, c] = [peer('a'), peer('b'), peer('c')];
  try {
    // a joins first, so a plain walk over the members would serve it first.
    for (const p of [a, b, c]) coordinator.join(p, 0, 1);
    await coordinator.snapshot();
    coordinator.push(a, [{ seq: 1, name: 'add', args: JSON.stringify({ json: { n: 1 } }) }]);
    await coordinator.snapshot();
    coordinator.push(c, [{ seq: 1, name: 'add', args: JSON.stringify({ json: { n: 2 } }) }]);
    await coordinator.snapshot();
    expect(sent).toEqual(['b 1', 'c 1', 'a 1', 'a 2', 'b 2', 'c 2']);
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('full clients joining at one LSN share its snapshot frames; after a commit a joiner gets the new state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  const reducers = itemReducers;
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger });
  const peer = (clientId: string) => {
    const frames: ServerFrame[] = [];
    const p: Peer = { clientId, userId: undefined, maxMessageBytes: 1 << 20, send: (frame) => void frames.push(frame), sendError: () => {} };
    return { p, snapshots: () => frames.filter((f) => f.type === 'snapshot') };
  };
  const add = (seq: number): Mutation => ({ seq, name: 'add', args: JSON.stringify({ json: { n: seq } }) });
  try {
    const writer = peer('w');
    coordinator.push(writer.p, [add(1)]);
    await coordinator.snapshot();
    const [a, b] = [peer('a'), peer('b')];
    coordinator.join(a.p, 0, 0);
    await coordinator.snapshot();
    coordinator.join(b.p, 0, 0);
    await coordinator.snapshot();
    expect(a.snapshots().length).toBeGreaterThan(0);
    // The same frame objects: the document was read and deflated once.
    expect(b.snapshots().length).toBe(a.snapshots().length);
    b.snapshots().forEach((frame, i) => expect(frame).toBe(a.snapshots()[i]));
    coordinator.push(writer.p, [add(2)]);
    await coordinator.snapshot();
    const c = peer('c');
    coordinator.join(c.p, 0, 0);
    const state = await coordinator.snapshot();
    const sent = c.snapshots().map((f) => decodeServerMessage(f.bytes));
    expect(sent.map((m) => m.type === 'snapshot' && m.lsn)).toEqual(sent.map(() => state.lsn));
    const pages = sent.flatMap((m) => (m.type === 'snapshot' ? m.pages : []));
    expect(pages.map((p) => [p.pgno, Buffer.from(p.data).toString('hex')])).toEqual(state.pages.map((p) => [p.pgno, Buffer.from(p.data).toString('hex')]));
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
