// Migrations on a document whose commit log is in a real S3 server (Ceph RGW): see rgw.ts and docs/S3_TESTING.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { type Migration, type Reducers, type Tx, defineApp } from '@quire/core';
import { createSyncServer } from '../../src/sync-server.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { silentLogger } from '../memory-logger.js';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from './rgw.js';
import { bucketLsns } from './bucket-lsns.js';

const reducers = { add: (tx: Tx, { id }: { id: string }) => void tx.exec('INSERT INTO notes (id) VALUES (?)', [id]) };
const V1: Migration[] = ['CREATE TABLE notes (id TEXT PRIMARY KEY)'];
const V2: Migration[] = [...V1, 'ALTER TABLE notes ADD COLUMN done INTEGER NOT NULL DEFAULT 0'];
const app = (migrations: Migration[]) => defineApp({ version: migrations.length, migrations, reducers });

const cleanup: Array<() => void> = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

/** A server node with an empty disk of its own: the bucket is all it shares with the others. */
function node(reducers: Reducers, s3: S3LogOptions) {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-s3-migrations-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return createSyncServer({ reducers, dataDir, logger: silentLogger, s3 });
}

test('on the S3 log, a migration is a commit in the bucket like any other: a new node rebuilds the document from it, and an older node refuses it', async () => {
  const s3 = await rgwOptions();
  const v1 = node(app(V1), s3);
  expect(await v1.mutate('doc', 'add', { id: 'a' })).toEqual({ lsn: 2 });
  await v1.close();

  // Another node of the new app, with nothing on its disk: it rebuilds the document from the bucket, then migrates it.
  const v2 = node(app(V2), s3);
  const snapshot = await v2.snapshot('doc');
  expect(snapshot.lsn).toBe(3);
  await v2.close();
  expect(await bucketLsns(s3)).toEqual([1, 2, 3]);

  const rebuilt = node(app(V2), s3);
  try {
    expect(await rebuilt.mutate('doc', 'add', { id: 'b' })).toEqual({ lsn: 4 });
  } finally {
    await rebuilt.close();
  }

  const older = node(app(V1), s3);
  try {
    await expect(older.snapshot('doc')).rejects.toMatchObject({ code: 'schema_too_new' });
  } finally {
    await older.close();
  }
  expect(await bucketLsns(s3)).toEqual([1, 2, 3, 4]);
});
