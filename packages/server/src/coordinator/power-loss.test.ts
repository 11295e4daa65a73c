import { cpSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
import { defineReducers } from '@quire/core';
import { PAGE_SIZE } from '@quire/core/internal';
import { FileCommitLog } from '../log/file-commit-log.js';
import { WalCapture } from '../wal/wal-capture.js';
import { memoryLogger } from '../../test/memory-logger.js';
import { Coordinator } from './coordinator.js';
import { LOCK_FILE } from './document-lock.js';
import { DB_FILE } from './volume-restore.js';

// The volume runs with synchronous=NORMAL: a commit is broadcast and made
// durable in the log without waiting for the WAL to reach the disk. A power
// loss can then leave a WAL that misses commits the log has. These tests make
// such crash images by hand and check that the document reopens at the log's
// last commit, with its rows.

const reducers = defineReducers({
  add: (tx, { n }: { n: number }) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (n INTEGER PRIMARY KEY, body TEXT)');
    tx.exec('INSERT INTO items VALUES (?, ?)', [n, `item ${n} `.repeat(20)]);
  },
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quire-power-loss-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, logger = memoryLogger('debug')) {
  return Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(dir), logger: logger.logger, compaction: { checkpointEveryCommits: 4, retainCommits: 2 } });
}

async function add(coordinator: Coordinator, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await coordinator.mutate('add', JSON.stringify({ json: { n } }));
}

const items = (coordinator: Coordinator) => coordinator.read((db) => db.prepare('SELECT n FROM items ORDER BY n').pluck().all());
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A document at LSN 10 whose db file holds LSN 5 (`document.mark` says so)
 * and whose WAL holds commits 6 to 10, every one durable in the log; and a
 * copy of its folder taken while it is open, as a power loss would find it
 * if the disk had kept everything. Returns where each WAL commit ends.
 */
async function crashImage(): Promise<{ image: string; ends: number[] }> {
  const dir = tempDir();
  const first = await open(dir);
  await add(first, 1, 5);
  await first.close();
  const second = await open(dir);
  await add(second, 6, 10);
  expect(second.durableLsn).toBe(10);
  const image = tempDir();
  cpSync(dir, image, { recursive: true, filter: (path) => !path.endsWith(LOCK_FILE) });
  await second.close();
  const capture = new WalCapture(join(image, `${DB_FILE}-wal`), { pageSize: PAGE_SIZE });
  const ends = capture.poll().map((commit) => commit.end.offset);
  capture.close();
  expect(ends).toHaveLength(5);
  return { image, ends };
}

/** Reopens the image: it must stand at LSN 10 with items 1 to 10, take a new commit, and keep it across a clean restart. */
async function expectReopensAtTheLog(image: string): Promise<{ rebuilt: boolean }> {
  const logger = memoryLogger('debug');
  const coordinator = await open(image, logger);
  const rebuilt = logger.lines.some((l) => l.msg === 'volume rebuilt from the commit log');
  try {
    expect(coordinator.lsn).toBe(10);
    expect(items(coordinator)).toEqual(range(1, 10));
    await add(coordinator, 11, 11);
    expect(coordinator.lsn).toBe(11);
  } finally {
    await coordinator.close();
  }
  const again = await open(image);
  try {
    expect(again.lsn).toBe(11);
    expect(items(again)).toEqual(range(1, 11));
  } finally {
    await again.close();
  }
  return { rebuilt };
}

const walOf = (image: string) => join(image, `${DB_FILE}-wal`);

test('the crash image itself reopens from its WAL, without a rebuild', async () => {
  const { image } = await crashImage();
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: false });
});

test('a WAL torn inside the last commit (one the log has) is rebuilt from the log, to the last commit', async () => {
  const { image, ends } = await crashImage();
  truncateSync(walOf(image), ends[4]! - 1000);
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: true });
});

test('a WAL whose last frame did not reach the disk whole (bad checksum) is rebuilt from the log', async () => {
  const { image, ends } = await crashImage();
  const wal = readFileSync(walOf(image));
  wal[ends[4]! - 100]! ^= 0xff;
  writeFileSync(walOf(image), wal);
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: true });
});

test('a WAL that lost whole commits the log made durable (it ends cleanly after LSN 7) is rebuilt, not opened at LSN 7', async () => {
  const { image, ends } = await crashImage();
  truncateSync(walOf(image), ends[1]!);
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: true });
});

test('a WAL that never reached the disk at all is rebuilt from the log', async () => {
  const { image } = await crashImage();
  rmSync(walOf(image));
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: true });
});

test('a SQLite checkpoint that finished but whose document.mark was never written: the older mark makes it rebuild', async () => {
  const { image } = await crashImage();
  const db = new Database(join(image, DB_FILE));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: true });
});

test('a SQLite checkpoint cut short (the db file has garbage where the WAL has newer pages): it reopens from the WAL, which SQLite copies in again', async () => {
  const { image } = await crashImage();
  const capture = new WalCapture(walOf(image), { pageSize: PAGE_SIZE });
  const inWal = new Set(capture.poll().flatMap((commit) => [...commit.pages.keys()]));
  capture.close();
  const fd = openSync(join(image, DB_FILE), 'r+');
  try {
    // Page 1 holds the file header SQLite reads before the WAL; a sector write is atomic.
    for (const pgno of inWal) if (pgno > 1) writeSync(fd, new Uint8Array(PAGE_SIZE).fill(0xaa), 0, PAGE_SIZE, (pgno - 1) * PAGE_SIZE);
  } finally {
    closeSync(fd);
  }
  expect(await expectReopensAtTheLog(image)).toEqual({ rebuilt: false });
});
