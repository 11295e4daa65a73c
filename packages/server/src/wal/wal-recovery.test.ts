import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { type WalPosition, WalCapture } from './wal-capture.js';
import { frameSizeBytes } from './wal-format.js';
import { rollbackWalTo } from './wal-recovery.js';

const root = mkdtempSync(join(tmpdir(), 'quire-walrec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

interface Volume {
  db: Database.Database;
  dbPath: string;
  capture: WalCapture;
}

function createVolume(): Volume {
  const dir = mkdtempSync(join(root, `${dirs++}-`));
  const dbPath = join(dir, 'doc.sqlite');
  const db = new Database(dbPath);
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, body BLOB)');
  db.prepare('INSERT INTO t (v) VALUES (?)').run('checkpointed');
  checkpoint(db, 'TRUNCATE');
  return { db, dbPath, capture: new WalCapture(`${dbPath}-wal`, { pageSize: 4096 }) };
}

function checkpoint(db: Database.Database, mode: 'PASSIVE' | 'TRUNCATE'): void {
  const [row] = db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>;
  expect(row?.busy).toBe(0);
}

/** Commits one transaction and returns the position after it, as the coordinator would record it. */
function commit(volume: Volume, work: (db: Database.Database) => void): WalPosition {
  volume.db.transaction(() => work(volume.db))();
  const commits = volume.capture.poll();
  expect(commits).toHaveLength(1);
  return commits[0]!.end;
}

const commitA = (db: Database.Database) => {
  const insert = db.prepare('INSERT INTO t (v, body) VALUES (?, ?)');
  for (let i = 0; i < 5; i++) insert.run(`a${i}`, Buffer.alloc(9000, i)); // several frames per commit
};
const commitB = (db: Database.Database) => {
  db.prepare(`UPDATE t SET v = v || '-b'`).run();
  db.prepare('DELETE FROM t WHERE id = 2').run();
  db.prepare('INSERT INTO t (v, body) VALUES (?, ?)').run('b', Buffer.alloc(20_000, 0xbb));
};

/** Small enough that after a restart, frames of the earlier generation remain behind it. */
const commitSmall = (db: Database.Database) => {
  db.prepare('INSERT INTO t (v) VALUES (?)').run('small');
};

const rows = (db: Database.Database) => db.prepare('SELECT id, v, length(body) AS n FROM t ORDER BY id').all();

/** What a crash leaves on disk: the files copied while the database is still open (close() would checkpoint). */
function crashCopy(volume: Volume): string {
  const dir = mkdtempSync(join(root, `crash-${dirs++}-`));
  const copy = join(dir, 'doc.sqlite');
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(`${volume.dbPath}${suffix}`)) copyFileSync(`${volume.dbPath}${suffix}`, `${copy}${suffix}`);
  }
  return copy;
}

/** Opens a recovered copy and reads it; the copy is then closed (which checkpoints it). */
function inspect(dbPath: string): { rows: unknown[]; image: Buffer; integrity: unknown } {
  const db = new Database(dbPath);
  try {
    return { rows: rows(db), image: db.serialize(), integrity: db.pragma('integrity_check', { simple: true }) };
  } finally {
    db.close();
  }
}

test('same log generation: the WAL is cut back to the durable commit, and the database is exactly that state', () => {
  const volume = createVolume();
  const durable = commit(volume, commitA);
  const stateA = { rows: rows(volume.db), image: volume.db.serialize() };
  commit(volume, commitB);
  const stateB = rows(volume.db);
  const crashed = crashCopy(volume);
  const control = crashCopy(volume);
  volume.db.close();

  const walBytes = statSync(`${crashed}-wal`).size;
  expect(durable.offset).toBeLessThan(walBytes);
  expect(rollbackWalTo(`${crashed}-wal`, durable)).toEqual({ discardedBytes: walBytes - durable.offset });
  expect(statSync(`${crashed}-wal`).size).toBe(durable.offset);
  expect(existsSync(`${crashed}-shm`)).toBe(false);

  const recovered = inspect(crashed);
  expect(recovered.integrity).toBe('ok');
  expect(recovered.rows).toEqual(stateA.rows);
  expect(Buffer.compare(recovered.image, stateA.image)).toBe(0);
  // Without recovery the copy holds commit B, so the copy really was taken after it.
  expect(inspect(control).rows).toEqual(stateB);
  expect(stateB).not.toEqual(stateA.rows);
});

test.each(['PASSIVE', 'TRUNCATE'] as const)('log restarted after the durable commit (%s checkpoint): the WAL is emptied', (mode) => {
  const volume = createVolume();
  const durable = commit(volume, commitA);
  const stateA = { rows: rows(volume.db), image: volume.db.serialize() };
  expect(volume.capture.poll()).toEqual([]); // poll before every checkpoint
  checkpoint(volume.db, mode);
  const after = commit(volume, commitSmall);
  expect([after.salt1, after.salt2]).not.toEqual([durable.salt1, durable.salt2]);
  const stateB = rows(volume.db);
  const crashed = crashCopy(volume);
  const control = crashCopy(volume);
  volume.db.close();

  const walBytes = statSync(`${crashed}-wal`).size;
  // PASSIVE leaves the file at its old length, with commit A's frames behind commit B's.
  if (mode === 'PASSIVE') expect(walBytes).toBeGreaterThan(after.offset);
  expect(rollbackWalTo(`${crashed}-wal`, durable)).toEqual({ discardedBytes: walBytes });
  expect(statSync(`${crashed}-wal`).size).toBe(0);
  expect(existsSync(`${crashed}-shm`)).toBe(false);

  const recovered = inspect(crashed);
  expect(recovered.integrity).toBe('ok');
  expect(recovered.rows).toEqual(stateA.rows);
  expect(Buffer.compare(recovered.image, stateA.image)).toBe(0);
  expect(inspect(control).rows).toEqual(stateB);
});

test('no durable position: everything in the WAL is discarded, leaving the last checkpoint', () => {
  const volume = createVolume();
  const checkpointed = rows(volume.db);
  commit(volume, commitA);
  const crashed = crashCopy(volume);
  volume.db.close();
  const walBytes = statSync(`${crashed}-wal`).size;
  expect(walBytes).toBeGreaterThan(0);
  expect(rollbackWalTo(`${crashed}-wal`, null)).toEqual({ discardedBytes: walBytes });
  expect(inspect(crashed).rows).toEqual(checkpointed);
});

test('a durable position at the end of the WAL discards nothing and leaves the -shm alone', () => {
  const volume = createVolume();
  commit(volume, commitA);
  const durable = commit(volume, commitB);
  const stateB = rows(volume.db);
  const crashed = crashCopy(volume);
  volume.db.close();
  const before = readFileSync(`${crashed}-wal`);
  expect(rollbackWalTo(`${crashed}-wal`, durable)).toEqual({ discardedBytes: 0 });
  expect(readFileSync(`${crashed}-wal`).equals(before)).toBe(true);
  expect(existsSync(`${crashed}-shm`)).toBe(true);
  expect(inspect(crashed).rows).toEqual(stateB);
});

test('a durable position that is not a commit boundary in the WAL is refused, and nothing is changed', () => {
  const volume = createVolume();
  const a = commit(volume, commitA);
  commit(volume, commitB);
  const crashed = crashCopy(volume);
  volume.db.close();
  const before = readFileSync(`${crashed}-wal`);
  const frame = frameSizeBytes(4096);
  for (const offset of [a.offset + frame, a.offset + 100, before.length + frame, 0]) {
    expect(() => rollbackWalTo(`${crashed}-wal`, { ...a, offset }), `offset ${offset}`).toThrow(/no commit ending at durable offset/);
  }
  expect(readFileSync(`${crashed}-wal`).equals(before)).toBe(true);
  expect(existsSync(`${crashed}-shm`)).toBe(true);
});

test('a missing WAL has nothing to discard', () => {
  const dir = join(root, 'missing');
  mkdirSync(dir);
  expect(rollbackWalTo(join(dir, 'doc.sqlite-wal'), { salt1: 1, salt2: 2, offset: 32 })).toEqual({ discardedBytes: 0 });
  expect(existsSync(join(dir, 'doc.sqlite-wal'))).toBe(false);
});
