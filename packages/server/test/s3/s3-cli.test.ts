// `quire migrate --s3-bucket …` and `quire inspect --s3-bucket …` on a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, test, vi } from 'vitest';
import type { Reducers } from '@quire/core';
import { main } from '../../src/cli/main.js';
import { ObjectKeys } from '../../src/log/s3/object-keys.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { createSyncServer } from '../../src/sync-server.js';
import { notesV1, notesV2 } from '../fixtures/notes-app.js';
import { captureOutput } from '../capture-output.js';
import { silentLogger } from '../memory-logger.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from './rgw.js';
import { bucketLsns } from './bucket-lsns.js';

const APP_V2 = fileURLToPath(new URL('../fixtures/notes-app.ts', import.meta.url));

const cleanup: Array<() => Promise<void> | void> = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A server node on the bucket with an empty disk of its own; with `nodeId`, one of a cluster. */
async function node(reducers: Reducers, s3: S3LogOptions, nodeId?: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-migrate-'));
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger, s3, ...(nodeId && { cluster: { nodeId, leaseTtlMs: 2000 } }) });
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.push(() => server.close());
  if (nodeId) await server.listen(0);
  return server;
}

/** `quire migrate` through the CLI's `main`, with the bucket's keys in the environment as an operator would set them. */
function quireMigrate(s3: S3LogOptions, args: string[] = [], secretAccessKey?: string) {
  return quire(['migrate', '--reducers', APP_V2], s3, args, secretAccessKey);
}

async function quire(command: string[], s3: S3LogOptions, args: string[] = [], secretAccessKey?: string) {
  const { credentials } = await rgw();
  vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', secretAccessKey ?? credentials.secretAccessKey);
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await main([...command, '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint!, '--s3-prefix', s3.prefix!, ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** Counts of the summary lines ("migrated 3" and so on). */
function summary(stdout: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, name, n] of stdout.matchAll(/^ {2}(migrated|already current|failed|skipped|not visited) +(\d+)/gm)) counts[name!] = Number(n);
  return counts;
}

/** Every key under the test's prefix. */
async function keys(s3: S3LogOptions): Promise<string[]> {
  const store = new S3Store(s3);
  try {
    const all: string[] = [];
    for await (const key of store.list(s3.prefix!)) all.push(key);
    return all;
  } finally {
    store.close();
  }
}

test('quire migrate --s3-bucket migrates every document of the bucket once: progress on stderr, the summary on stdout; a second run finds them all current', async () => {
  const s3 = await rgwOptions();
  const v1 = await node(notesV1, s3);
  for (const docId of ['alpha', 'beta', 'gamma']) {
    await v1.mutate(docId, 'add', { id: `${docId}-1` });
    await v1.mutate(docId, 'add', { id: `${docId}-2` });
  }
  await v1.close();
  // A folder with only a lease (a document that never opened) is not a document.
  const other = new S3Store(s3);
  await other.putIfAbsent(`${s3.prefix}docs/never-opened/lease`, new TextEncoder().encode('{}'));
  other.close();

  const before = await quire(['inspect'], s3, ['alpha']);
  expect(before.stdout).toMatch(/^alpha\n {2}lsn 3 .*\n.* {3}schema version 2\n/);

  const first = await quireMigrate(s3);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout.split('\n').slice(0, 5)).toEqual([
    `schema version 3 (app version 2): 3 document(s) in s3://${s3.bucket}/${s3.prefix} at ${s3.endpoint}`,
    '  migrated         3',
    '  already current  0',
    '  failed           0',
    '  skipped          0',
  ]);
  expect(first.stderr).toBe('3/3 (100%)  3 migrated, 0 current, 0 failed, 0 skipped\n');
  // Each document: LSN 1 its v1 schema, 2 and 3 the notes, 4 the migration.
  for (const docId of ['alpha', 'beta', 'gamma']) expect(await bucketLsns(s3, docId)).toEqual([1, 2, 3, 4]);

  const second = await quireMigrate(s3);
  expect(second.code, second.stderr).toBe(0);
  expect(summary(second.stdout)).toEqual({ migrated: 0, 'already current': 3, failed: 0, skipped: 0 });
  const one = await quireMigrate(s3, ['beta']);
  expect(one.code).toBe(0);
  expect(one.stdout).toContain('1 document(s) in');
  expect(summary(one.stdout)).toEqual({ migrated: 0, 'already current': 1, failed: 0, skipped: 0 });

  // Nothing more was committed; a v2 node serves each with the step run exactly once, and a v1 node refuses them.
  const v2 = await node(notesV2, s3);
  for (const docId of ['alpha', 'beta', 'gamma']) {
    expect(await bucketLsns(s3, docId)).toEqual([1, 2, 3, 4]);
    expect(await v2.mutate(docId, 'add', { id: `${docId}-3` })).toEqual({ lsn: 5 });
  }
  await v2.close();
  const old = await node(notesV1, s3);
  await expect(old.snapshot('alpha')).rejects.toMatchObject({ code: 'schema_too_new' });

  // quire inspect reads the same bucket: each document's LSN, schema version, log and checkpoints.
  const inspected = await quire(['inspect'], s3);
  expect(inspected.code, inspected.stderr).toBe(0);
  expect(inspected.stdout.split('\n').filter((line) => !line.startsWith(' '))).toEqual(['alpha', 'beta', 'gamma', '']);
  const beta = await quire(['inspect'], s3, ['beta']);
  expect(beta.stdout).toMatch(/^beta\n {2}lsn 5 {3}durable lsn 5 {3}first lsn in log 1\n {2}pages \d+ {3}size [\d.]+ KiB {3}log [\d.]+ KiB {3}schema version 3\n {2}checkpoints @0\n {2}clients \(last seq\) none\n {2}recent rejections none\n$/);
  const missing = await quire(['inspect'], s3, ['nope']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`quire: no document "nope" in s3://${s3.bucket}/${s3.prefix} at ${s3.endpoint} — check the id, --s3-bucket and --s3-prefix\n`);
});

test('a document a live cluster node coordinates is skipped, never opened; once that node stops, the next run migrates it', async () => {
  const s3 = await rgwOptions();
  const seed = await node(notesV1, s3);
  await seed.mutate('free', 'add', { id: 'f' });
  await seed.close();
  const running = await node(notesV1, s3, 'n1');
  expect(await running.mutate('held', 'add', { id: 'h' })).toEqual({ lsn: 2 });

  const first = await quireMigrate(s3);
  expect(first.code).toBe(1);
  expect(summary(first.stdout)).toEqual({ migrated: 1, 'already current': 0, failed: 0, skipped: 1 });
  expect(first.stdout).toContain('  skipped          1 (held by a running server: it migrates them when it opens them if it runs this app version; a server of an older version refuses the documents migrated now, with schema_too_new, until it runs this one)\n    held\n');
  expect(first.stderr).toMatch(/^held: skipped — its lease is held by server node "n1" \(ws:\/\/127\.0\.0\.1:\d+\), which coordinates it$/m);
  // It looked again after the lease's TTL (2 s): the node had renewed it, so it stays skipped.
  expect(first.stderr).toMatch(/^waiting 2\.\d s to look at the 1 skipped document\(s\) again/m);
  // The node still coordinates it, undisturbed: its next commit follows its own.
  expect(await running.mutate('held', 'add', { id: 'h2' })).toEqual({ lsn: 3 });
  expect(await bucketLsns(s3, 'held')).toEqual([1, 2, 3]);

  // A clean stop hands the lease back.
  await running.close();
  const second = await quireMigrate(s3);
  expect(second.code, second.stderr).toBe(0);
  expect(summary(second.stdout)).toEqual({ migrated: 1, 'already current': 1, failed: 0, skipped: 0 });
  expect(await bucketLsns(s3, 'held')).toEqual([1, 2, 3, 4]);
  const v2 = await node(notesV2, s3, 'n2');
  expect(await v2.mutate('held', 'add', { id: 'h3' })).toEqual({ lsn: 5 });
});

test('a lease its node stopped renewing (the node died) is skipped at first, looked at again after its TTL, and then taken over and migrated', async () => {
  const s3 = await rgwOptions();
  const seed = await node(notesV1, s3);
  await seed.mutate('orphan', 'add', { id: 'o' });
  await seed.close();
  // What a node killed while it coordinated the document leaves behind: a lease nobody renews.
  const lease = { format: 'quire-lease-1', nodeId: 'dead', address: 'ws://127.0.0.1:9', epoch: 3, ttlMs: 500, released: false, nonce: 'n' };
  const store = new S3Store(s3);
  await store.putIfAbsent(new ObjectKeys(s3.prefix!, 'orphan').lease, new TextEncoder().encode(JSON.stringify(lease)));
  store.close();

  const run = await quireMigrate(s3);
  expect(run.code, run.stderr).toBe(0);
  expect(summary(run.stdout)).toEqual({ migrated: 1, 'already current': 0, failed: 0, skipped: 0 });
  expect(run.stderr).toContain('orphan: skipped — its lease is held by server node "dead" (ws://127.0.0.1:9), which coordinates it\n');
  expect(run.stderr).toMatch(/^waiting 0\.\d s to look at the 1 skipped document\(s\) again: a lease that is not renewed by then belongs to a node that is gone$/m);
  expect(run.stderr).toContain('orphan: migrated (its lease was not renewed: the node that held it is gone)\n');
  expect(await bucketLsns(s3, 'orphan')).toEqual([1, 2, 3]);
});

test('without cluster leases, a server that commits while quire migrate migrates the document wins the LSN: the document is reported failed (log_fenced) and nothing of the migration is kept', async () => {
  const s3 = await rgwOptions();
  const server = await node(notesV1, s3);
  expect(await server.mutate('raced', 'add', { id: 'a' })).toEqual({ lsn: 2 });
  expect(await server.mutate('calm', 'add', { id: 'a' })).toEqual({ lsn: 2 });

  // quire migrate talks to RGW through a proxy that holds its migration commit of "raced" back until the server has committed.
  const proxy = await FaultyS3Proxy.start(s3.endpoint!);
  cleanup.push(() => proxy.close());
  let raced = false;
  proxy.hold = async ({ method, path }) => {
    if (method !== 'PUT' || !path.includes('/docs/raced/commits/') || raced) return;
    raced = true;
    expect(await server.mutate('raced', 'add', { id: 'b' })).toEqual({ lsn: 3 });
  };
  const run = await quireMigrate({ ...s3, endpoint: proxy.endpoint });
  expect(raced).toBe(true);
  expect(run.code).toBe(1);
  expect(summary(run.stdout)).toEqual({ migrated: 1, 'already current': 0, failed: 1, skipped: 0 });
  expect(run.stdout).toMatch(/^ {4}raced: \[log_fenced\] a server wrote to the document while quire migrate was migrating it, and its commit won: the migration was not kept/m);
  expect(run.stderr).toMatch(/^raced: failed — \[log_fenced\]/m);

  // The server carries on at its own LSNs, and the bucket holds its commits only: a v1 node still opens the document.
  expect(await server.mutate('raced', 'add', { id: 'c' })).toEqual({ lsn: 4 });
  expect(await bucketLsns(s3, 'raced')).toEqual([1, 2, 3, 4]);
  await server.close();
  const v1 = await node(notesV1, s3);
  const snapshot = await v1.snapshot('raced');
  expect(snapshot.lsn).toBe(4);
  await v1.close();
  // With the server gone, the next run migrates it.
  const again = await quireMigrate(s3, ['raced']);
  expect(summary(again.stdout)).toEqual({ migrated: 1, 'already current': 0, failed: 0, skipped: 0 });
  expect(await bucketLsns(s3, 'raced')).toEqual([1, 2, 3, 4, 5]);
});

test('a bucket that does not exist, or keys the store refuses: a clear error, exit 1, nothing written', async () => {
  const s3 = await rgwOptions();
  const v1 = await node(notesV1, s3);
  await v1.mutate('doc', 'add', { id: 'a' });
  await v1.close();
  const before = await keys(s3);

  const missing = await quireMigrate({ ...s3, bucket: 'quire-no-such-bucket' });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^quire: LIST s3:\/\/quire-no-such-bucket\/.*: bucket "quire-no-such-bucket" does not exist .* — create it, or fix the bucket name \(--s3-bucket\)\n$/);
  expect(missing.stdout).toBe('');

  const denied = await quireMigrate(s3, [], 'not-the-secret');
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/^quire: LIST s3:\/\/quire-tests\/.* was refused \(403 \w+.*\) — check the credentials .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.*\n$/);
  expect(denied.stdout).toBe('');

  expect(await keys(s3)).toEqual(before);
});

test('inspect, compact, migrate and backup given the data directory of a server with --s3-bucket refuse it (log_in_bucket), say what to use instead, and write nothing', async () => {
  const s3 = await rgwOptions();
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-cache-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = createSyncServer({ reducers: notesV1, dataDir, logger: silentLogger, s3 });
  await server.mutate('alpha', 'add', { id: 'a1' });
  await server.close();
  // Every file with its size and time, to see that nothing was written.
  const tree = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => `${name} ${statSync(join(dir, name)).size} ${statSync(join(dir, name)).mtimeMs}`).sort();
  const before = tree(dataDir);
  const dest = join(dataDir, '..', `${dataDir.split('/').at(-1)}-backup`);
  cleanup.push(() => rmSync(dest, { recursive: true, force: true }));

  const io = captureOutput();
  const cases: Array<[string[], string]> = [
    [['inspect', dataDir], "run quire inspect --s3-bucket <name> (with the server's --s3-endpoint and --s3-prefix) instead"],
    [['inspect', dataDir, 'alpha'], 'run quire inspect --s3-bucket <name>'],
    [['compact', dataDir], 'nothing to do: servers compact the logs in a bucket themselves'],
    [['migrate', '--reducers', APP_V2, dataDir], 'run quire migrate --reducers <file> --s3-bucket <name>'],
    [['backup', dataDir, dest], "back up the bucket with the store's own versioning or replication"],
  ];
  for (const [args, instead] of cases) {
    io.clear();
    expect(await main(args), args.join(' ')).toBe(1);
    expect(io.err()).toContain(`quire: document "alpha" in ${dataDir} has a database but no commit log: this is the data directory of a server with --s3-bucket, which keeps the logs in the bucket and only a cache here — ${instead}`);
  }
  expect(tree(dataDir)).toEqual(before);
  expect(existsSync(dest)).toBe(false);
  // The bucket itself still serves the document.
  expect(await bucketLsns(s3, 'alpha')).toEqual([1, 2]);
});
