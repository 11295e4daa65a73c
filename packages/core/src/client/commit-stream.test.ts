import { expect, test } from 'vitest';
import { CommitStream } from './commit-stream.js';

const welcome = (lsn: number, rejections: { clientId: string; seq: number }[] = []) => ({
  type: 'welcome' as const,
  protocolVersion: 5,
  appVersion: 0,
  schemaVersion: 0,
  lsn,
  maxMessageBytes: 1 << 20,
  rejections: rejections.map((r) => ({ ...r, code: 'reducer_error', message: 'no' })),
});
const commit = (baseLsn: number, lsn: number, durableLag = lsn) => ({ type: 'commit' as const, lsn, span: lsn - baseLsn, pageCount: 1, pages: [], forgotten: [], durableLag });

test('commits must follow on: a repeat is ignored, a gap asks for a resync', () => {
  const stream = new CommitStream();
  stream.startAt(3);
  stream.welcome(welcome(3), 'c1');
  expect(stream.commit(commit(3, 4))).toMatchObject({ update: { kind: 'commit', lsn: 4 } });
  expect(stream.commit(commit(3, 4))).toBeUndefined();
  expect(stream.commit(commit(6, 7))).toBe('gap');
  expect(stream.lastLsn).toBe(4);
});

test("the welcome's rejections settle with the snapshot that follows it, and it catches the client up", () => {
  const stream = new CommitStream();
  expect(stream.welcome(welcome(5, [{ clientId: 'c1', seq: 2 }, { clientId: 'other', seq: 9 }]), 'c1')).toEqual([]);
  expect(stream.caughtUpAt(0)).toBe(false);
  expect(stream.snapshot({ type: 'snapshot', lsn: 5, pageCount: 1, pages: [{ pgno: 1, data: new Uint8Array(4096) }], done: false })).toBeUndefined();
  const streamed = stream.snapshot({ type: 'snapshot', lsn: 5, pageCount: 1, pages: [], done: true })!;
  expect(streamed.update.pages).toHaveLength(1);
  expect(streamed.rejections.map((r) => r.seq)).toEqual([2]);
  stream.applied(streamed.update);
  expect(stream.caughtUpAt(5)).toBe(true);
});

test('a client already current settles the welcome rejections at once', () => {
  const stream = new CommitStream();
  stream.startAt(8);
  expect(stream.welcome(welcome(8, [{ clientId: 'c1', seq: 3 }]), 'c1').map((r) => r.seq)).toEqual([3]);
  expect(stream.caughtUpAt(8)).toBe(true);
});

const refused = (lsn: number, ...seqs: number[]) => ({
  type: 'rejections' as const,
  lsn,
  rejections: seqs.map((seq) => ({ clientId: 'c1', seq, code: 'reducer_error', message: 'no' })),
});

test('rejections settle with the commit of their LSN, the one that follows them', () => {
  const stream = new CommitStream();
  stream.startAt(3);
  stream.welcome(welcome(3), 'c1');
  stream.rejections(refused(4, 2, 3));
  expect((stream.commit(commit(3, 4)) as { rejections: { seq: number }[] }).rejections.map((r) => r.seq)).toEqual([2, 3]);
  // Used once: the next commit settles none of them.
  expect((stream.commit(commit(4, 5)) as { rejections: unknown[] }).rejections).toEqual([]);
});

test('rejections for another LSN, or from before a new socket, settle nothing', () => {
  const stream = new CommitStream();
  stream.startAt(3);
  stream.welcome(welcome(3), 'c1');
  stream.rejections(refused(9, 2));
  expect((stream.commit(commit(3, 4)) as { rejections: unknown[] }).rejections).toEqual([]);
  stream.durableAt({ type: 'durable', lsn: 4 });
  stream.rejections(refused(5, 2));
  stream.opened();
  stream.welcome(welcome(4), 'c1');
  expect((stream.commit(commit(4, 5)) as { rejections: unknown[] }).rejections).toEqual([]);
});

test('a commit is durable once the server says so; a new socket asks again from the durable LSN, dropping what was not', () => {
  const stream = new CommitStream();
  stream.startAt(3);
  stream.welcome(welcome(3), 'c1');
  expect(stream.commit(commit(3, 4))).toMatchObject({ durable: false });
  expect(stream.commit(commit(4, 5))).toMatchObject({ durable: false });
  expect(stream.durableAt({ type: 'durable', lsn: 4 })).toBe(4);
  expect(stream.durableAt({ type: 'durable', lsn: 4 })).toBeUndefined();
  expect(stream.durableLsn).toBe(4);
  expect(stream.lastLsn).toBe(5);
  // The server may have lost commit 5.
  stream.opened();
  expect(stream.lastLsn).toBe(4);
  stream.welcome(welcome(6), 'c1');
  expect(stream.caughtUpAt(5)).toBe(false);
  // The catch-up commit is at the welcome's LSN, durable.
  expect(stream.commit(commit(4, 6))).toMatchObject({ durable: true, update: { lsn: 6 } });
  expect(stream.commit(commit(6, 7))).toMatchObject({ durable: false });
});

test('a welcome alone makes nothing durable here: cut before its snapshot, the next hello still asks from the old LSN', () => {
  const stream = new CommitStream();
  stream.welcome(welcome(2), 'c1');
  stream.opened();
  expect(stream.lastLsn).toBe(0);
  stream.startAt(0);
  stream.welcome(welcome(3), 'c1');
  stream.snapshot({ type: 'snapshot', lsn: 3, pageCount: 1, pages: [], done: true });
  expect(stream.durableLsn).toBe(3);
});

test('a commit says how far the log is durable: news folds the earlier commits, old news and a later durable say nothing more', () => {
  const stream = new CommitStream();
  stream.startAt(3);
  stream.welcome(welcome(3), 'c1');
  expect(stream.commit(commit(3, 4, 1))).not.toHaveProperty('durableTo');
  expect(stream.commit(commit(4, 5, 1))).toMatchObject({ durable: false, durableTo: 4 });
  expect(stream.durableLsn).toBe(4);
  expect(stream.commit(commit(5, 6, 2))).not.toHaveProperty('durableTo');
  expect(stream.durableAt({ type: 'durable', lsn: 4 })).toBeUndefined();
  expect(stream.commit(commit(6, 7, 1))).toMatchObject({ durable: false, durableTo: 6 });
  // A commit sent once the log held it (durableLag 0) goes on as a layer, folded at once with those before it.
  expect(stream.commit(commit(7, 8, 0))).toMatchObject({ durable: false, durableTo: 8 });
  expect(stream.durableLsn).toBe(8);
  // A new socket asks again from the durable LSN a commit told.
  stream.commit(commit(8, 9, 1));
  stream.opened();
  expect(stream.lastLsn).toBe(8);
});
