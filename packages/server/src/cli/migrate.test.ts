import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { type Migration, type Tx, defineApp } from '@quire/core';
import { createSyncServer } from '../sync-server.js';
import { silentLogger } from '../../test/memory-logger.js';
import { main } from './main.js';
import { DataDirectorySource } from './data-directory-source.js';
import { migrate } from './migrate.js';
import { Progress } from './progress.js';

const reducers = { add: (tx: Tx) => void tx.exec('INSERT INTO items DEFAULT VALUES') };
const V1: Migration[] = ['CREATE TABLE items (id INTEGER PRIMARY KEY)'];
const V2: Migration[] = [...V1, 'ALTER TABLE items ADD COLUMN label TEXT'];
const app = (migrations: Migration[]) => defineApp({ version: migrations.length, migrations, reducers });

let dataDir = '';
afterEach(() => {
  vi.restoreAllMocks();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = '';
});

function output(isTTY = false) {
  const lines: string[] = [];
  let progress = '';
  return { lines, progress: () => progress, out: { write: (line: string) => void lines.push(line), progress: { isTTY, write: (text: string) => void (progress += text) } } };
}

test('quire migrate: migrated, already current, failed with its step, schema_too_new, skipped while a server holds it; exit 1 until all are current', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-migrate-cmd-'));
  const v1 = createSyncServer({ reducers: app(V1), dataDir, logger: silentLogger });
  for (const docId of ['a', 'b', 'c']) await v1.mutate(docId, 'add', undefined as never);
  await v1.close();
  const v3 = createSyncServer({ reducers: app([...V2, 'CREATE TABLE extra (x)']), dataDir, logger: silentLogger });
  await v3.snapshot('z');
  await v3.close();

  // A server (of the new app) holds "b"; "z" was migrated by a newer app.
  const running = createSyncServer({ reducers: app(V2), dataDir, logger: silentLogger });
  try {
    await running.snapshot('b');
    const first = output();
    expect(await migrate(new DataDirectorySource(dataDir, undefined), app(V2), first.out)).toBe(1);
    expect(first.lines.slice(0, 5)).toEqual([
      `schema version 2 (app version 2): 4 document(s) in ${dataDir}`,
      '  migrated         2',
      '  already current  0',
      '  failed           1',
      expect.stringMatching(/^ {4}z: \[schema_too_new\] document "z" is at schema version 3, but this server's app \(version 2\) declares 2 migration\(s\)/),
    ]);
    expect(first.lines.slice(5, 7)).toEqual(['  skipped          1 (held by a running server: it migrates them when it opens them if it runs this app version; a server of an older version refuses the documents migrated now, with schema_too_new, until it runs this one)', '    b']);
    // Advice for the cause: an older app than the one that migrated "z".
    expect(first.lines.slice(7)).toEqual(['Some documents were migrated by a newer version of the app than this one: run quire migrate with the newest version (the one your servers run).']);
    expect(first.progress()).toMatch(/^b: skipped — the document in .* is open in another process/m);
    expect(first.progress()).toMatch(/^4\/4 \(100%\)  2 migrated, 0 current, 1 failed, 1 skipped\n$/m);
  } finally {
    await running.close();
  }

  // A step that throws: reported with its step, the document left at its version.
  const broken = app([...V2, 'INSERT INTO nowhere VALUES (1)']);
  const second = output();
  expect(await migrate(new DataDirectorySource(dataDir, 'a'), broken, second.out)).toBe(1);
  expect(second.lines).toContainEqual(expect.stringMatching(/^ {4}a: migration 3 of 3 failed on document "a": no such table: nowhere — /));
  expect(second.lines.at(-1)).toBe('Fix the failing migration step (one not deployed anywhere yet may still change) and run quire migrate again: documents already migrated are left alone.');

  const third = output();
  expect(await migrate(new DataDirectorySource(dataDir, 'a'), app(V2), third.out)).toBe(0);
  expect(third.lines).toContain('  already current  1');
});

test('quire migrate on the command line: needs --reducers and a data directory or a bucket; --data only with a bucket; no quire compact on a bucket', async () => {
  const err: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  expect(await main(['migrate', '/tmp'])).toBe(2);
  expect(err.join('')).toContain('quire migrate needs --reducers <file>');
  expect(await main(['migrate', '--reducers', 'app.ts'])).toBe(2);
  expect(err.join('')).toContain('quire migrate takes --reducers <file> <dataDir> [docId]');
  expect(await main(['migrate', '--reducers', 'app.ts', '--s3-bucket', 'b', 'one', 'two'])).toBe(2);
  expect(err.join('')).toContain('quire migrate --s3-bucket <name> takes at most a [docId]');
  expect(await main(['migrate', '--reducers', 'app.ts', '--data', '/tmp/cache', '/tmp/data'])).toBe(2);
  expect(err.join('')).toContain('quire migrate takes --data only with --s3-bucket');
  expect(await main(['migrate', '--reducers', 'app.ts', '--s3-prefix', 'p/', '/tmp/data'])).toBe(2);
  expect(err.join('')).toContain('--s3-endpoint and --s3-prefix need --s3-bucket');
  expect(await main(['compact', '--s3-bucket', 'b'])).toBe(2);
  expect(err.join('')).toContain('quire compact works on a data directory with file logs');
});

test('progress: a bar redrawn in place on a terminal, a line every 100 items or 2 s elsewhere', () => {
  let now = 0;
  let text = '';
  const lines = new Progress({ write: (t) => void (text += t) }, 250, () => now);
  for (let i = 1; i <= 150; i++) lines.tick(`${i} done`);
  now = 2500;
  lines.tick('151 done');
  for (let i = 152; i <= 250; i++) lines.tick(`${i} done`);
  expect(text).toBe('100/250 (40%)  100 done\n151/250 (60%)  151 done\n250/250 (100%)  250 done\n');

  text = '';
  now = 0;
  const bar = new Progress({ isTTY: true, write: (t) => void (text += t) }, 3, () => now);
  now = 200;
  bar.tick('one');
  bar.tick('two'); // within 100 ms of the last draw: not redrawn
  bar.note('two: skipped');
  now = 400;
  bar.tick('three');
  expect(text).toBe(`\r[##########....................] 1/3  one\x1b[K\ntwo: skipped\n\r[##############################] 3/3  three\x1b[K\n`);
});

test('quire compact opens migrated documents as they are (it has no app: no schema_too_new, no migration)', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-migrate-cmd-'));
  const server = createSyncServer({ reducers: app(V2), dataDir, logger: silentLogger });
  await server.mutate('a', 'add', undefined as never);
  await server.close();
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  expect(await main(['compact', dataDir])).toBe(0);
  expect(out.join('')).toMatch(/^\[1\/1\] a: checkpoint at LSN 2;/);
});

test('quire inspect shows each document\'s schema version', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-migrate-cmd-'));
  const server = createSyncServer({ reducers: app(V2), dataDir, logger: silentLogger });
  await server.snapshot('a');
  await server.close();
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  expect(await main(['inspect', dataDir])).toBe(0);
  expect(out.join('')).toMatch(/\n {2}pages \d+ {3}size .* {3}log .* {3}schema version 2\n/);
});
