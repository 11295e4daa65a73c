// Needs a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CommitLog, RECENT_COMMITS } from '../../src/log/commit-log.js';
import { checkpoint, checkpointPages, record, runCommitLogContract } from '../../src/log/commit-log.contract.js';
import type { Clock } from '../../src/log/s3/compaction-grace.js';
import { S3CommitLog } from '../../src/log/s3/s3-commit-log.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { RGW_SETUP_TIMEOUT_MS, objectBytes, rgw, rgwOptions } from './rgw.js';

const stores: S3Store[] = [];
/** Each contract test's key gets a prefix of its own; the same key again is the same storage (a restart). */
const prefixes = new Map<string, S3Store>();

beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(() => stores.forEach((s) => s.close()));

async function store(extra: Parameters<typeof rgwOptions>[0] = {}): Promise<S3Store> {
  const s = new S3Store(await rgwOptions(extra));
  stores.push(s);
  return s;
}

describe('contract', () => {
  // The contract calls make() synchronously, so the store is made lazily by the log's first call.
  runCommitLogContract('S3CommitLog on RGW', (key) => lazyLog(key));
});

function lazyLog(key: string): CommitLog {
  let log: S3CommitLog | undefined;
  const get = async () => {
    if (!log) {
      let s = prefixes.get(key);
      if (!s) prefixes.set(key, (s = await store()));
      // The contract compacts at once: no grace period.
      log = new S3CommitLog(s, 'doc', { compactionGraceMs: 0 });
    }
    return log;
  };
  return {
    open: async () => (await get()).open(),
    append: async (records) => (await get()).append(records),
    readAfter: async function* (after) {
      yield* (await get()).readAfter(after);
    },
    writeCheckpoint: async (checkpoint, pages) => (await get()).writeCheckpoint(checkpoint, pages),
    readCheckpoint: async function* (info) {
      yield* (await get()).readCheckpoint(info);
    },
    compact: async (keepAfterLsn) => (await get()).compact(keepAfterLsn),
    close: async () => (await get()).close(),
  };
}

describe('S3CommitLog layout', () => {
  test('one object per append, keyed by its first LSN so that the newest sorts first', async () => {
    const s = await store();
    const log = new S3CommitLog(s, 'doc');
    await log.open();
    await log.append([record(1), record(2)]);
    await log.append([record(3)]);
    const keys: string[] = [];
    for await (const key of s.list(`${s.prefix}docs/doc/commits/`)) keys.push(key.slice(s.prefix.length));
    expect(keys).toEqual(['docs/doc/commits/fffffffffffffffc', 'docs/doc/commits/fffffffffffffffe']);
    await log.close();
  });

  test(`open reads only the newest objects, enough for ${RECENT_COMMITS} commits; readAfter reads from the object holding the next LSN`, async () => {
    const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
    try {
      const options = await rgwOptions();
      const writer = new S3CommitLog(stores[stores.push(new S3Store(options)) - 1]!, 'doc');
      await writer.open();
      // 22 objects of 50 commits: 1100 commits.
      for (let first = 1; first <= 1100; first += 50) {
        await writer.append(Array.from({ length: 50 }, (_, i) => record(first + i, { pages: [{ pgno: 1, data: new Uint8Array(4096).fill(i) }] })));
      }
      await writer.close();

      const reader = new S3CommitLog(await store({ prefix: options.prefix!, endpoint: proxy.endpoint }), 'doc');
      const summary = await reader.open();
      expect(summary.last?.lsn).toBe(1100);
      expect(summary.recent.map((r) => r.lsn)).toEqual(Array.from({ length: RECENT_COMMITS }, (_, i) => 1100 - RECENT_COMMITS + 1 + i));
      // 1024 commits need the newest 21 objects (1050 commits), not all 22.
      expect(proxy.count('GET') - proxy.seen.filter((r) => r.path.includes('list-type')).length).toBe(21);

      proxy.seen.length = 0;
      const read: number[] = [];
      for await (const r of reader.readAfter(1030)) read.push(r.lsn);
      expect(read).toEqual(Array.from({ length: 70 }, (_, i) => 1031 + i));
      // LSN 1031 is in the object starting at 1001: two object GETs, after one LIST.
      expect(proxy.seen.map((r) => (r.path.includes('list-type') ? 'LIST' : r.method))).toEqual(['LIST', 'GET', 'GET']);
      await reader.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('checkpoints and compaction on S3', () => {
  test('a checkpoint is one object keyed by its inverted LSN; compaction deletes covered commit objects and older checkpoints', async () => {
    const s = await store();
    const log = new S3CommitLog(s, 'doc', { compactionGraceMs: 0 });
    await log.open();
    await log.append([record(1), record(2)]);
    await log.writeCheckpoint(checkpoint(2, 3), checkpointPages(2, 3));
    await log.append([record(3)]);
    await log.writeCheckpoint(checkpoint(3, 4), checkpointPages(3, 4));
    const keys = async () => {
      const out: string[] = [];
      for await (const key of s.list(`${s.prefix}docs/doc/`)) out.push(key.slice(s.prefix.length));
      return out;
    };
    expect(await keys()).toEqual(['docs/doc/checkpoints/fffffffffffffffc', 'docs/doc/checkpoints/fffffffffffffffd', 'docs/doc/commits/fffffffffffffffc', 'docs/doc/commits/fffffffffffffffe']);
    expect(await log.compact(3)).toEqual({ commitsRemoved: 2, checkpointsRemoved: 1 });
    expect(await keys()).toEqual(['docs/doc/checkpoints/fffffffffffffffc', 'docs/doc/commits/fffffffffffffffc']);
    await log.close();
  });

  test('storedBytes is exactly what the objects in the bucket hold, after appends, checkpoints, lost answers and compaction, and asks the bucket nothing', async () => {
    const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
    try {
      const options = await rgwOptions();
      const log = new S3CommitLog(await store({ prefix: options.prefix!, endpoint: proxy.endpoint }), 'doc', { compactionGraceMs: 0 });
      const inBucket = async () => ({ commits: await objectBytes(options, 'docs/doc/commits/'), checkpoints: await objectBytes(options, 'docs/doc/checkpoints/') });
      const counted = async () => {
        const requests = proxy.seen.length;
        const bytes = await log.storedBytes();
        expect(proxy.seen.length, 'requests storedBytes made').toBe(requests);
        return bytes;
      };
      await log.open();
      expect(await counted()).toEqual({ commits: 0, checkpoints: 0 });
      await log.append([record(1), record(2)]);
      await log.append([record(3, { pages: [{ pgno: 1, data: new Uint8Array(4096).fill(3) }] })]);
      await log.writeCheckpoint(checkpoint(2, 3), checkpointPages(2, 3));
      expect(await counted()).toEqual(await inBucket());
      // Written, but the answer is lost: the retry finds its own bytes there, counted once.
      const dropped = new Set<string>();
      proxy.fault = (r) => (r.method === 'PUT' && !dropped.has(r.path) ? (dropped.add(r.path), 'drop-answer') : 'pass');
      await log.append([record(4)]);
      await log.writeCheckpoint(checkpoint(4, 5), checkpointPages(4, 5));
      proxy.fault = () => 'pass';
      expect(dropped.size).toBe(2);
      const before = await counted();
      expect(before).toEqual(await inBucket());
      expect(await log.compact(4)).toEqual({ commitsRemoved: 3, checkpointsRemoved: 1 });
      const after = await counted();
      expect(after).toEqual(await inBucket());
      expect(after.commits).toBeLessThan(before.commits);
      expect(after.checkpoints).toBeLessThan(before.checkpoints);
      // A log opened on the bucket now counts the same from its LIST.
      const reopened = new S3CommitLog(await store({ prefix: options.prefix! }), 'doc');
      await reopened.open();
      expect(await reopened.storedBytes()).toEqual(after);
      await Promise.all([log.close(), reopened.close()]);
    } finally {
      await proxy.close();
    }
  });

  test('a writer whose next key compaction removed is fenced: the chain went on without it', async () => {
    const options = await rgwOptions();
    const graceMs = 300;
    const live = new S3CommitLog(await store({ prefix: options.prefix! }), 'doc', { compactionGraceMs: graceMs });
    await live.open();
    await live.append([record(1)]);
    const stale = new S3CommitLog(await store({ prefix: options.prefix! }), 'doc', { compactionGraceMs: graceMs });
    expect((await stale.open()).last?.lsn).toBe(1);
    await live.append([record(2)]);
    await live.append([record(3)]);
    await live.writeCheckpoint(checkpoint(3, 4), checkpointPages(3, 4));
    // Within the grace period nothing is deleted; after it, the commits under the checkpoint are.
    expect(await live.compact(3)).toEqual({ commitsRemoved: 0, checkpointsRemoved: 0 });
    await sleep(graceMs);
    expect(await live.compact(3)).toEqual({ commitsRemoved: 2, checkpointsRemoved: 0 });

    // The key of LSN 2 is free again; the stale writer's PUT lands there, and it must not take that for durable.
    await expect(stale.append([record(2, { settled: [{ clientId: 'stale', lastSeq: 1 }] })])).rejects.toMatchObject({ code: 'log_fenced' });
    await expect(stale.append([record(3)])).rejects.toMatchObject({ code: 'log_fenced' });
    await live.append([record(4)]);
    await live.close();

    const reader = new S3CommitLog(await store({ prefix: options.prefix! }), 'doc');
    const summary = await reader.open();
    expect([summary.checkpoint?.lsn, summary.last?.lsn]).toEqual([3, 4]);
    expect((await collect(reader.readAfter(3))).map((r) => r.lsn)).toEqual([4]);
    await reader.close();
  });
});

describe('the compaction grace period', () => {
  /** Clocks the test moves by hand: `monotonicMs` stands still while the machine sleeps, `wallMs` may jump. */
  function manualClock(): Clock & { monotonicMs: number; wallMs: number } {
    const clock = { monotonicMs: 0, wallMs: 1_000_000, now: () => ({ monotonicMs: clock.monotonicMs, wallMs: clock.wallMs }) };
    return clock;
  }
  const requests = (proxy: FaultyS3Proxy) => proxy.seen.map((r) => (r.path.includes('list-type') ? 'LIST' : r.method));

  test('a writer appending more often than half the grace period sends one PUT per append and no LIST; after a longer pause, on either clock, it LISTs once', async () => {
    const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
    try {
      const clock = manualClock();
      const log = new S3CommitLog(await store({ endpoint: proxy.endpoint }), 'doc', { compactionGraceMs: 1000, clock });
      await log.open();
      proxy.seen.length = 0;
      for (let lsn = 1; lsn <= 20; lsn++) {
        clock.monotonicMs += 100;
        clock.wallMs += 100;
        await log.append([record(lsn)]);
      }
      expect(requests(proxy)).toEqual(Array.from({ length: 20 }, () => 'PUT'));

      const afterPause = async (lsn: number) => {
        proxy.seen.length = 0;
        await log.append([record(lsn)]);
        return requests(proxy);
      };
      clock.monotonicMs += 501;
      clock.wallMs += 501;
      expect(await afterPause(21)).toEqual(['PUT', 'LIST']);
      // The machine slept: the monotonic clock stood still, the wall clock went on.
      clock.wallMs += 501;
      expect(await afterPause(22)).toEqual(['PUT', 'LIST']);
      // The wall clock was set back while time went on.
      clock.monotonicMs += 501;
      clock.wallMs -= 60_000;
      expect(await afterPause(23)).toEqual(['PUT', 'LIST']);
      clock.monotonicMs += 499;
      clock.wallMs += 499;
      expect(await afterPause(24)).toEqual(['PUT']);
      await log.close();
    } finally {
      await proxy.close();
    }
  });

  test('compaction deletes only commits under a checkpoint this node has known for the grace period', async () => {
    const clock = manualClock();
    const s = await store();
    const log = new S3CommitLog(s, 'doc', { compactionGraceMs: 1000, clock });
    await log.open();
    for (let lsn = 1; lsn <= 3; lsn++) await log.append([record(lsn)]);
    await log.writeCheckpoint(checkpoint(3, 4), checkpointPages(3, 4));
    clock.monotonicMs += 999;
    expect(await log.compact(10)).toEqual({ commitsRemoved: 0, checkpointsRemoved: 0 });
    for (let lsn = 4; lsn <= 5; lsn++) await log.append([record(lsn)]);
    await log.writeCheckpoint(checkpoint(5, 4), checkpointPages(5, 4));
    // The checkpoint at 3 is old enough now, the one at 5 not yet: commits 1 to 3 go.
    clock.monotonicMs += 1;
    expect(await log.compact(10)).toEqual({ commitsRemoved: 3, checkpointsRemoved: 1 });
    expect((await collect(log.readAfter(3))).map((r) => r.lsn)).toEqual([4, 5]);
    await expect(collect(log.readAfter(2))).rejects.toMatchObject({ code: 'log_compacted' });
    clock.monotonicMs += 1000;
    // Commit 5 is the newest object, which compaction always keeps.
    expect(await log.compact(10)).toEqual({ commitsRemoved: 1, checkpointsRemoved: 0 });

    // A node that opens the log counts the grace period from when it found the checkpoint.
    const other = new S3CommitLog(s, 'doc', { compactionGraceMs: 1000, clock });
    await other.open();
    await other.append([record(6)]);
    await other.append([record(7)]);
    await other.writeCheckpoint(checkpoint(7, 4), checkpointPages(7, 4));
    expect(await other.compact(10)).toEqual({ commitsRemoved: 0, checkpointsRemoved: 1 });
    clock.monotonicMs += 1000;
    expect(await other.compact(10)).toEqual({ commitsRemoved: 2, checkpointsRemoved: 0 });
    await log.close();
    await other.close();
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
