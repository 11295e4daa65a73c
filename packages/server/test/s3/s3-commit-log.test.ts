// Needs a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CommitLog, RECENT_COMMITS } from '../../src/log/commit-log.js';
import { checkpoint, checkpointPages, record, runCommitLogContract } from '../../src/log/commit-log.contract.js';
import { S3CommitLog } from '../../src/log/s3/s3-commit-log.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from './rgw.js';

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
      log = new S3CommitLog(s, 'doc');
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
    const log = new S3CommitLog(s, 'doc');
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

  test('a writer whose next key compaction removed is fenced: the chain went on without it', async () => {
    const options = await rgwOptions();
    const live = new S3CommitLog(await store({ prefix: options.prefix! }), 'doc');
    await live.open();
    await live.append([record(1)]);
    const stale = new S3CommitLog(await store({ prefix: options.prefix! }), 'doc');
    expect((await stale.open()).last?.lsn).toBe(1);
    await live.append([record(2)]);
    await live.append([record(3)]);
    await live.writeCheckpoint(checkpoint(3, 4), checkpointPages(3, 4));
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

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
