import { expect, test } from 'vitest';
import { CommitStream } from './commit-stream.js';

const welcome = (lsn: number, rejections: { clientId: string; seq: number }[] = []) => ({
  type: 'welcome' as const,
  protocolVersion: 5,
  lsn,
  maxMessageBytes: 1 << 20,
  rejections: rejections.map((r) => ({ ...r, code: 'reducer_error', message: 'no' })),
});
const commit = (baseLsn: number, lsn: number) => ({ type: 'commit' as const, baseLsn, lsn, pageCount: 1, pages: [], forgotten: [], rejections: [] });

test('commits must follow on: a repeat is ignored, a gap asks for a resync', () => {
  const stream = new CommitStream();
  stream.startAt(3);
  stream.welcome(welcome(3), 'c1');
  expect(stream.commit(commit(3, 4), 'c1')).toMatchObject({ update: { kind: 'commit', lsn: 4 } });
  expect(stream.commit(commit(3, 4), 'c1')).toBeUndefined();
  expect(stream.commit(commit(6, 7), 'c1')).toBe('gap');
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
