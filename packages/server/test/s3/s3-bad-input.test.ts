// Bad storage and bad objects, on a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { type Server, createServer } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { record } from '../../src/log/commit-log.contract.js';
import { encodeCommitObject } from '../../src/log/s3/commit-object.js';
import { ObjectKeys } from '../../src/log/s3/object-keys.js';
import { S3CommitLog } from '../../src/log/s3/s3-commit-log.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { RGW_SETUP_TIMEOUT_MS, overwrite, rgw, rgwOptions } from './rgw.js';

const stores: S3Store[] = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(() => stores.forEach((s) => s.close()));

function log(options: S3LogOptions): S3CommitLog {
  const s = new S3Store(options);
  stores.push(s);
  return new S3CommitLog(s, 'doc');
}

/** Puts raw bytes where a commit object (or a stray object) would go. */
async function plant(options: S3LogOptions, name: string | number, bytes: Uint8Array): Promise<string> {
  const s = new S3Store(options);
  stores.push(s);
  const keys = new ObjectKeys(s.prefix, 'doc');
  const key = typeof name === 'number' ? keys.commit(name) : keys.commits + name;
  expect(await s.putIfAbsent(key, bytes)).toMatchObject({ written: true });
  return key;
}

async function lsns(options: S3LogOptions): Promise<number[]> {
  const reader = log(options);
  await reader.open();
  const out: number[] = [];
  for await (const r of reader.readAfter(0)) out.push(r.lsn);
  await reader.close();
  return out;
}

/**
 * A retry window no test outlives: an error that must come "at once" (not
 * retried) is checked with it, so a retry would show as the test's timeout.
 * (A bound on the time taken would be a timing assertion a busy machine fails.)
 */
const AN_HOUR = 3_600_000;

/** Fails unless `promise` rejects with `code` and a message matching `message`. */
async function failsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await expect(promise).rejects.toEqual(expect.objectContaining({ code, message: expect.stringMatching(message) }));
}

test('an endpoint that refuses connections: storage_unreachable once retryForMs is spent', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  const options = await rgwOptions({ endpoint: `http://127.0.0.1:${port}`, retryForMs: 500 });
  const open = log(options).open();
  await failsWith(open, 'storage_unreachable', /LIST .* failed for \d+\.\d s \(.*ECONNREFUSED.*\) — check that the endpoint is right/);
  // It gave up by the 0.5 s window, not the default 8 s one (the time it reports, with a margin no busy machine needs).
  const seconds = Number(/failed for (\d+\.\d) s/.exec(((await open.catch((e: unknown) => e)) as Error).message)![1]);
  expect(seconds).toBeLessThan(8);
});

test('an endpoint that accepts and never answers: storage_unreachable in bounded time', async () => {
  const held = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => void held.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const options = await rgwOptions({ endpoint: `http://127.0.0.1:${port}`, retryForMs: 800, idleTimeoutMs: 200 });
    await failsWith(log(options).open(), 'storage_unreachable', /LIST .* failed/);
    expect(held.size).toBeGreaterThan(1); // it tried again
  } finally {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the store stops answering mid-session: the append fails typed, later ones are refused, and every acknowledged commit is there', async () => {
  const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
  try {
    const options = await rgwOptions({ retryForMs: 800, idleTimeoutMs: 200 });
    const writer = log({ ...options, endpoint: proxy.endpoint });
    await writer.open();
    await writer.append([record(1), record(2)]);
    proxy.fault = () => 'hang';
    await failsWith(writer.append([record(3)]), 'storage_unreachable', /PUT .* failed/);
    proxy.fault = () => 'pass';
    // Whether LSN 3 got written is unknown to it now, so it writes nothing more.
    await expect(writer.append([record(3)])).rejects.toEqual(expect.objectContaining({ code: 'storage_unreachable' }));
    await expect(writer.append([record(4)])).rejects.toEqual(expect.objectContaining({ code: 'storage_unreachable' }));
    expect(await lsns(options)).toEqual([1, 2]);
  } finally {
    await proxy.close();
  }
});

test('wrong credentials: storage_denied at once', async () => {
  const env = await rgw();
  const wrongKey = await rgwOptions({ retryForMs: AN_HOUR, credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' } });
  await failsWith(log(wrongKey).open(), 'storage_denied', /403 InvalidAccessKeyId.* — check the credentials/);
  const wrongSecret = await rgwOptions({ retryForMs: AN_HOUR, credentials: { accessKeyId: env.credentials.accessKeyId, secretAccessKey: 'wrong' } });
  await failsWith(log(wrongSecret).open(), 'storage_denied', /403 SignatureDoesNotMatch/);
});

test('a missing bucket: storage_not_found at once', async () => {
  const options = await rgwOptions({ retryForMs: AN_HOUR, bucket: 'quire-no-such-bucket' });
  await failsWith(log(options).open(), 'storage_not_found', /bucket "quire-no-such-bucket" does not exist .* — create it/);
});

test('an object among the commits that Quire did not name: corrupt_log, and nothing is deleted', async () => {
  const options = await rgwOptions({ retryForMs: AN_HOUR });
  const writer = log(options);
  await writer.open();
  await writer.append([record(1)]);
  await plant(options, 'README.txt', new TextEncoder().encode('hello'));
  await failsWith(log(options).open(), 'corrupt_log', /object ".*commits\/README\.txt" sits among the commit objects but is not named like one/);
});

test('an object among the checkpoints that Quire did not name: corrupt_log (open lists them all, for their sizes)', async () => {
  const options = await rgwOptions({ retryForMs: AN_HOUR });
  const writer = log(options);
  await writer.open();
  await writer.append([record(1)]);
  await overwrite(options, `${new ObjectKeys(options.prefix!, 'doc').checkpoints}README.txt`, new TextEncoder().encode('hello'));
  await expect(log(options).open()).rejects.toEqual(expect.objectContaining({ code: 'corrupt_log', message: expect.stringMatching(/object ".*checkpoints\/README\.txt" sits among the checkpoints but is not named like one/) }));
});

test('garbage bytes under the newest commit key: corrupt_log naming the object, and the log is left as it is', async () => {
  const options = await rgwOptions({ retryForMs: AN_HOUR });
  const writer = log(options);
  await writer.open();
  await writer.append([record(1)]);
  const key = await plant(options, 2, new TextEncoder().encode('not a commit'));
  await failsWith(log(options).open(), 'corrupt_log', new RegExp(`commit object "${key}" has no commit record at byte 0`));
  // A flipped byte fails the checksum.
  const options2 = await rgwOptions({ retryForMs: AN_HOUR });
  const bytes = encodeCommitObject([record(1)]);
  bytes[40] = bytes[40]! ^ 0xff;
  await plant(options2, 1, bytes);
  await failsWith(log(options2).open(), 'corrupt_log', /fails its checksum/);
});

test('a valid commit under the wrong key, or a chain with a hole: corrupt_log', async () => {
  const options = await rgwOptions({ retryForMs: AN_HOUR });
  await plant(options, 1, encodeCommitObject([record(1)]));
  await plant(options, 2, encodeCommitObject([record(7)]));
  await failsWith(log(options).open(), 'corrupt_log', /holds LSN 7 where LSN 2 belongs/);

  // LSN 2 and 3 in one object, then an object that claims to start at 3.
  const overlap = await rgwOptions({ retryForMs: AN_HOUR });
  await plant(overlap, 1, encodeCommitObject([record(1)]));
  await plant(overlap, 2, encodeCommitObject([record(2), record(3)]));
  await plant(overlap, 3, encodeCommitObject([record(3)]));
  await failsWith(log(overlap).open(), 'corrupt_log', /ends at LSN 3 but the next object starts at LSN 3/);

  // The oldest object is missing.
  const hole = await rgwOptions({ retryForMs: AN_HOUR });
  await plant(hole, 2, encodeCommitObject([record(2)]));
  await failsWith(log(hole).open(), 'corrupt_log', /before LSN 2 are missing/);
});

test('a damaged older object is found by readAfter, which yields nothing from it', async () => {
  const options = await rgwOptions();
  const writer = log(options);
  await writer.open();
  for (let lsn = 1; lsn <= 3; lsn++) await writer.append([record(lsn)]);
  const damaged = encodeCommitObject([record(1)]);
  damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 1;
  await overwrite(options, new ObjectKeys(options.prefix!, 'doc').commit(1), damaged);
  const read: number[] = [];
  const readAll = async (after: number) => {
    for await (const r of writer.readAfter(after)) read.push(r.lsn);
  };
  await expect(readAll(0)).rejects.toEqual(expect.objectContaining({ code: 'corrupt_log', message: expect.stringMatching(/fails its checksum/) }));
  expect(read).toEqual([]);
  await readAll(1);
  expect(read).toEqual([2, 3]);
});

test('a foreign object at the key this node writes next: log_fenced, and it is not overwritten', async () => {
  const options = await rgwOptions();
  const writer = log(options);
  await writer.open();
  await writer.append([record(1)]);
  const key = await plant(options, 2, new TextEncoder().encode('someone else'));
  await expect(writer.append([record(2)])).rejects.toEqual(expect.objectContaining({ code: 'log_fenced' }));
  const s = new S3Store(options);
  stores.push(s);
  expect(new TextDecoder().decode(await s.get(key))).toBe('someone else');
});
