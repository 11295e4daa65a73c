// Fencing on a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CommitRecord } from '../../src/log/commit-log.js';
import { record } from '../../src/log/commit-log.contract.js';
import { S3CommitLog } from '../../src/log/s3/s3-commit-log.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from './rgw.js';

const stores: S3Store[] = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(() => stores.forEach((s) => s.close()));

function storeFor(options: S3LogOptions): S3Store {
  const s = new S3Store(options);
  stores.push(s);
  return s;
}

async function opened(options: S3LogOptions): Promise<S3CommitLog> {
  const log = new S3CommitLog(storeFor(options), 'doc');
  await log.open();
  return log;
}

/** A commit that says who wrote it, so a reader can tell the writers apart. */
function by(writer: string, lsn: number): CommitRecord {
  return record(lsn, { settled: [{ clientId: writer, lastSeq: lsn }] });
}

/** Every commit in the bucket, read by a fresh log: the one chain readers see. */
async function chain(options: S3LogOptions): Promise<Array<{ lsn: number; writer: string }>> {
  const reader = await opened(options);
  const out: Array<{ lsn: number; writer: string }> = [];
  for await (const r of reader.readAfter(0)) out.push({ lsn: r.lsn, writer: r.settled[0]!.clientId });
  await reader.close();
  return out;
}

const fenced = expect.objectContaining({ code: 'log_fenced', message: expect.stringMatching(/another node wrote LSN \d+ of document "doc"/) });

test('two writers at the same LSN: one wins, the other is fenced and refuses every later append', async () => {
  const options = await rgwOptions();
  const first = await opened(options);
  await first.append([by('a', 1), by('a', 2)]);
  const a = await opened(options);
  const b = await opened(options);

  const [ra, rb] = await Promise.allSettled([a.append([by('a', 3)]), b.append([by('b', 3), by('b', 4)])]);
  const outcomes = [ra.status, rb.status].sort();
  expect(outcomes).toEqual(['fulfilled', 'rejected']);
  const [winner, loser, name] = ra.status === 'fulfilled' ? [a, b, 'a'] : [b, a, 'b'];
  expect(ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason).toEqual(fenced);

  // The loser stays down, whatever it tries next.
  await expect(loser.append([by('loser', 4)])).rejects.toEqual(fenced);
  await expect(loser.append([by('loser', 3)])).rejects.toEqual(fenced);
  // The winner carries on.
  const next = name === 'a' ? 4 : 5;
  await winner.append([by(name, next)]);

  const seen = await chain(options);
  expect(seen.map((c) => c.lsn)).toEqual(Array.from({ length: next }, (_, i) => i + 1));
  expect(seen.slice(2).every((c) => c.writer === name)).toBe(true);
});

test('a writer with a stale view collides with the object that follows the end it knows', async () => {
  const options = await rgwOptions();
  const stale = await opened(options);
  await stale.append([by('stale', 1)]);
  const fresh = await opened(options);
  await fresh.append([by('fresh', 2), by('fresh', 3)]);
  await fresh.append([by('fresh', 4)]);

  // `stale` still thinks the chain ends at 1: its next key is LSN 2's, which is taken.
  await expect(stale.append([by('stale', 2)])).rejects.toEqual(fenced);
  expect(await chain(options)).toEqual([
    { lsn: 1, writer: 'stale' },
    { lsn: 2, writer: 'fresh' },
    { lsn: 3, writer: 'fresh' },
    { lsn: 4, writer: 'fresh' },
  ]);
});

test('16 writers racing for each LSN, 5 rounds: one winner per round, 15 fenced, one chain', async () => {
  const options = await rgwOptions();
  const winners: string[] = [];
  for (let round = 1; round <= 5; round++) {
    const logs = await Promise.all(Array.from({ length: 16 }, () => opened(options)));
    const results = await Promise.allSettled(logs.map((log, i) => log.append([by(`w${round}.${i}`, round)])));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`w${round}.${i}`] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toEqual(fenced);
    winners.push(won[0]!);
    await Promise.all(logs.map((log) => log.close()));
  }
  expect(await chain(options)).toEqual(winners.map((writer, i) => ({ lsn: i + 1, writer })));
});

test('a 500 answer to a PUT that was written is the writer\'s own success; a 500 for a lost race is fenced', async () => {
  const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
  try {
    const options = await rgwOptions();
    const viaProxy = { ...options, endpoint: proxy.endpoint };
    const a = await opened(viaProxy);
    // RGW writes it, the proxy answers 500: the log re-reads and finds its own bytes.
    proxy.fault = (r) => (r.method === 'PUT' ? 'answer-500' : 'pass');
    await a.append([by('a', 1)]);
    expect(proxy.seen.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([200]);

    const b = await opened(options);
    await b.append([by('b', 2)]);
    // a's conditional PUT of LSN 2 loses (412 from RGW), and the proxy turns that into 500, as RGW does for some lost races.
    proxy.seen.length = 0;
    await expect(a.append([by('a', 2)])).rejects.toEqual(fenced);
    expect(proxy.seen.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([412]);
    expect(await chain(options)).toEqual([
      { lsn: 1, writer: 'a' },
      { lsn: 2, writer: 'b' },
    ]);
  } finally {
    await proxy.close();
  }
});

test('a PUT whose answer is lost is retried, and the retry\'s 412 on its own bytes is success', async () => {
  const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
  try {
    const options = await rgwOptions();
    const a = await opened({ ...options, endpoint: proxy.endpoint });
    let dropped = 0;
    proxy.fault = (r) => (r.method === 'PUT' && dropped++ === 0 ? 'drop-answer' : 'pass');
    await a.append([by('a', 1)]);
    expect(proxy.seen.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([200, 412]);
    await a.append([by('a', 2)]);
    expect((await chain(options)).map((c) => c.lsn)).toEqual([1, 2]);
  } finally {
    await proxy.close();
  }
});

test('appends started before the previous one resolved are written in order', async () => {
  const options = await rgwOptions();
  const log = await opened(options);
  await Promise.all([log.append([by('a', 1)]), log.append([by('a', 2), by('a', 3)]), log.append([by('a', 4)])]);
  expect((await chain(options)).map((c) => c.lsn)).toEqual([1, 2, 3, 4]);
});

test('an append queued behind one that gets fenced is refused too, and never written', async () => {
  const options = await rgwOptions();
  const a = await opened(options);
  const b = await opened(options);
  await b.append([by('b', 1), by('b', 2)]);
  const first = a.append([by('a', 1)]);
  const second = a.append([by('a', 2)]);
  await expect(first).rejects.toEqual(fenced);
  await expect(second).rejects.toEqual(fenced);
  expect(await chain(options)).toEqual([
    { lsn: 1, writer: 'b' },
    { lsn: 2, writer: 'b' },
  ]);
});
