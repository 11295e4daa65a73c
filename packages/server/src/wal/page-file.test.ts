import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { readDbFilePages, readDbFilePagesAt, releaseDbFile } from './page-file.js';
import { WalCapture } from './wal-capture.js';

const root = mkdtempSync(join(tmpdir(), 'quire-pagefile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('returns exactly pageCount pages: a prefix of a longer file, zeros past the end of a shorter one', () => {
  const path = join(root, 'pages.db');
  const file = Buffer.alloc(3 * 512);
  for (let i = 0; i < file.length; i++) file[i] = (i * 7) & 0xff;
  writeFileSync(path, file);
  expect(readDbFilePages(path, 2, 512)).toEqual(new Uint8Array(file.subarray(0, 1024)));
  const longer = readDbFilePages(path, 5, 512);
  expect(longer.length).toBe(5 * 512);
  expect(longer.subarray(0, file.length)).toEqual(new Uint8Array(file));
  expect(longer.subarray(file.length).every((b) => b === 0)).toBe(true);
  expect(readDbFilePages(path, 1).length).toBe(4096);
  releaseDbFile(path);
});

test('reads chosen pages by position, runs of neighbours in one read, zeros past the end', () => {
  const path = join(root, 'chosen.db');
  const file = Buffer.alloc(4 * 512);
  for (let i = 0; i < file.length; i++) file[i] = Math.floor(i / 512) + 1;
  writeFileSync(path, file);
  const pages = readDbFilePagesAt(path, [4, 2, 3, 2, 6], 512);
  expect([...pages.keys()]).toEqual([2, 3, 4, 6]);
  expect([...pages.values()].map((p) => [p.length, p[0], p[511]])).toEqual([
    [512, 2, 2],
    [512, 3, 3],
    [512, 4, 4],
    [512, 0, 0],
  ]);
  releaseDbFile(path);
});

test('sees a file that was replaced under the same path, and a missing file throws', () => {
  const path = join(root, 'replaced.db');
  writeFileSync(path, Buffer.alloc(512, 1));
  expect(readDbFilePages(path, 1, 512)[0]).toBe(1);
  rmSync(path);
  expect(() => readDbFilePages(path, 1, 512)).toThrow(/ENOENT/);
  writeFileSync(path, Buffer.alloc(512, 2));
  expect(readDbFilePages(path, 1, 512)[0]).toBe(2);
  releaseDbFile(path);
});

/** This process's POSIX locks on a file, from /proc/locks (Linux). */
/** This process's locks on `path`, without the line's ordinal, which moves as other processes take and drop locks. */
function locksOn(path: string): string[] {
  const { ino } = statSync(path);
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[4] === String(process.pid) && fields[5]?.endsWith(`:${ino}`))
    .map((fields) => fields.slice(1).join(' '));
}

test.skipIf(!existsSync('/proc/locks'))('reading keeps the SHARED lock SQLite holds on an open WAL-mode database', () => {
  const dir = mkdtempSync(join(root, 'locks-'));
  const dbPath = join(dir, 'doc.sqlite');
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
  db.prepare('SELECT * FROM t').all();
  const held = locksOn(dbPath);
  expect(held.length).toBeGreaterThan(0);

  expect(readDbFilePages(dbPath, 1)).toHaveLength(4096);
  readDbFilePages(dbPath, 1);
  expect(locksOn(dbPath)).toEqual(held);

  // What the handle cache prevents: closing any descriptor of the file drops the process's locks.
  closeSync(openSync(dbPath, 'r'));
  expect(locksOn(dbPath)).toEqual([]);

  // Closing the volume's capture, after the database, releases the cached handle.
  expect(descriptorsOf(dbPath)).toBe(2); // SQLite's and ours
  const capture = new WalCapture(`${dbPath}-wal`);
  db.close();
  expect(descriptorsOf(dbPath)).toBe(1);
  capture.close();
  expect(descriptorsOf(dbPath)).toBe(0);
});

function descriptorsOf(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}
