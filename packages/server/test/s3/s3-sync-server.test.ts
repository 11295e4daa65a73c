// createSyncServer with its commit logs on a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '../../src/sync-server.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { memoryLogger, silentLogger } from '../memory-logger.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { RGW_SETUP_TIMEOUT_MS, objectBytes, rgw, rgwOptions } from './rgw.js';
import { bucketLsns } from './bucket-lsns.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY)'),
  add: (tx, { id }: { id: string }) => tx.exec('INSERT INTO notes (id) VALUES (?)', [id]),
});

const cleanup: Array<() => Promise<void> | void> = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(dataDir: string, s3: S3LogOptions): Promise<{ server: SyncServer<typeof reducers>; url: string }> {
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger, s3 });
  const { url } = await server.listen(0);
  return { server, url };
}

function client(url: string): QuireClient<typeof reducers> {
  const c = createClient({ url, docId: 'doc', reducers, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  cleanup.push(() => c.close());
  return c;
}

test('createSyncServer({ s3 }) makes each commit durable in the bucket before confirming it, and a restart carries on from there', async () => {
  const s3 = await rgwOptions();
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-server-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));

  const first = await serve(dataDir, s3);
  const alice = client(first.url);
  alice.mutate.init();
  const { lsn } = await alice.mutate.add({ id: 'one' }).server;
  // Confirmed means in the bucket.
  expect((await bucketLsns(s3)).at(-1)).toBe(lsn);
  await alice.close();
  await first.server.close();

  const second = await serve(dataDir, s3);
  cleanup.push(() => second.server.close());
  const bob = client(second.url);
  const two = await bob.mutate.add({ id: 'two' }).server;
  expect(two.lsn).toBe(lsn + 1);
  expect(await bob.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 'one' }, { id: 'two' }]);
  expect(await bucketLsns(s3)).toEqual(Array.from({ length: lsn + 1 }, (_, i) => i + 1));
});

test('a store that stops answering mid-commit stops the document; once it answers again, clients resend and nothing confirmed is lost', async () => {
  const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
  cleanup.push(() => proxy.close());
  const s3 = await rgwOptions({ retryForMs: 500, idleTimeoutMs: 200 });
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-server-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const { server, url } = await serve(dataDir, { ...s3, endpoint: proxy.endpoint });
  cleanup.push(() => server.close());

  const alice = client(url);
  const errors: string[] = [];
  alice.subscribeStatus((status) => status.lastError && errors.push(status.lastError.code));
  alice.mutate.init();
  await alice.mutate.add({ id: 'one' }).server;
  proxy.fault = (r) => (r.method === 'PUT' ? 'hang' : 'pass');
  const two = alice.mutate.add({ id: 'two' }).server;
  await expect(server.mutate('doc', 'add', { id: 'never confirmed' })).rejects.toMatchObject({ code: 'server_error' });
  proxy.fault = () => 'pass';
  // Alice's call was not confirmed while the store hung; she resends it after reconnecting.
  await two;
  expect(errors).toContain('server_error');
  expect(await alice.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 'one' }, { id: 'two' }]);
  const lsns = await bucketLsns(s3);
  expect(lsns).toEqual(Array.from({ length: lsns.length }, (_, i) => i + 1));
});

test('a request to the bucket that fails and is retried counts in quire_s3_request_failures_total; the commit still becomes durable', async () => {
  const proxy = await FaultyS3Proxy.start((await rgw()).endpoint);
  cleanup.push(() => proxy.close());
  let dropped = 0;
  // The first request the server sends (opening the document's log) loses its answer.
  proxy.fault = () => (dropped++ === 0 ? 'drop-answer' : 'pass');
  const s3 = await rgwOptions();
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-server-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const { server, url } = await serve(dataDir, { ...s3, endpoint: proxy.endpoint });
  cleanup.push(() => server.close());
  const alice = client(url);
  alice.mutate.init();
  const { lsn } = await alice.mutate.add({ id: 'one' }).server;
  expect((await bucketLsns(s3)).at(-1)).toBe(lsn);
  const text = await (await fetch(`${url.replace(/^ws/, 'http')}/metrics`)).text();
  const failures = [...text.matchAll(/^quire_s3_request_failures_total\{operation="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  expect(failures).toEqual([[expect.stringMatching(/^(LIST|GET|HEAD)$/), 1]]);
});

test("quire_commit_log_bytes on S3 is what the document's objects in the bucket hold, through checkpoints and compaction, and after a restart", async () => {
  const s3 = await rgwOptions({ compactionGraceMs: 0 });
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-server-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const inBucket = async () => (await objectBytes(s3, 'docs/doc/commits/')) + (await objectBytes(s3, 'docs/doc/checkpoints/'));
  const serveCompacting = async () => {
    const memory = memoryLogger('debug');
    const server = createSyncServer({ reducers, dataDir, logger: memory.logger, s3, compaction: { checkpointEveryCommits: 4, retainCommits: 2 } });
    const http = (await server.listen(0)).url.replace(/^ws/, 'http');
    const metric = async () => Number(/^quire_commit_log_bytes (\d+)$/m.exec(await (await fetch(`${http}/metrics`)).text())![1]);
    return { server, lines: memory.lines, metric };
  };
  // Checkpoints and compaction go on behind the commits: the figures agree once they are done.
  const agreed = (metric: () => Promise<number>) =>
    expect
      .poll(async () => ({ metric: await metric(), bucket: await inBucket() }))
      .toSatisfy(({ metric, bucket }: { metric: number; bucket: number }) => metric === bucket && metric > 0);

  const first = await serveCompacting();
  cleanup.push(() => first.server.close());
  await first.server.mutate('doc', 'init', {});
  for (let n = 0; n < 12; n++) await first.server.mutate('doc', 'add', { id: `n${n}` });
  await agreed(first.metric);
  const compacted = first.lines.filter((l) => l.msg === 'log checkpoint written' && Number(l.commitsRemoved) > 0);
  expect(compacted.length, 'checkpoints that compacted commits away').toBeGreaterThan(0);
  await first.server.close();

  // A new server counts from what it lists when it opens the document.
  const second = await serveCompacting();
  cleanup.push(() => second.server.close());
  await second.server.mutate('doc', 'add', { id: 'after restart' });
  await agreed(second.metric);
});

test('createSyncServer refuses `s3` together with `commitLog`', async () => {
  const s3 = await rgwOptions();
  expect(() => createSyncServer({ reducers, dataDir: '/nonexistent', s3, commitLog: () => ({}) as never })).toThrow(/either `s3` or `commitLog`/);
});

test('with the default retry budget, a client whose document cannot open because the store is down is told so before its handshake times out', async () => {
  // A port nobody listens on: connections are refused, and the store retries until its budget runs out.
  const s3: S3LogOptions = { bucket: 'quire-tests', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-server-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const { server, url } = await serve(dataDir, s3);
  cleanup.push(() => server.close());
  // The clients' default handshake timeout (15 s).
  const c = createClient({ url, docId: 'doc', reducers });
  cleanup.push(() => c.close());
  await expect.poll(() => c.status().lastError?.code, { timeout: 14_000, interval: 100 }).toBe('storage_unreachable');
}, 20_000);
