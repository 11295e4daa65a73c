import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { afterAll, describe, expect, onTestFailed, test } from 'vitest';
import { readDbFilePages } from './page-file.js';
import { type CapturedCommit, type WalPosition, WalCapture, readWalHeader, walFrames, walStart } from './wal-capture.js';
import { WAL_FORMAT_VERSION, WAL_FRAME_HEADER, WAL_HEADER, WAL_MAGIC_BIG_ENDIAN, WAL_MAGIC_LITTLE_ENDIAN, type WalChecksum, frameSizeBytes, walChecksum } from './wal-format.js';

const root = mkdtempSync(join(tmpdir(), 'quire-walcap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => mkdtempSync(join(root, `${dirs++}-`));

// ---------------------------------------------------------------------------
// Synthetic logs: exact control over every frame, and the big-endian variant
// SQLite never writes on a little-endian machine.

interface SyntheticFrame {
  pgno: number;
  /** Db size for a commit frame; omitted for the other frames of a transaction. */
  commit?: number;
  fill: number;
  salts?: [number, number];
}

const SMALL_PAGE = 512;

function syntheticHeader(salts: [number, number], bigEndian = false): { bytes: Uint8Array; checksum: WalChecksum } {
  const bytes = new Uint8Array(WAL_HEADER.sizeBytes);
  const view = new DataView(bytes.buffer);
  view.setUint32(WAL_HEADER.magic, bigEndian ? WAL_MAGIC_BIG_ENDIAN : WAL_MAGIC_LITTLE_ENDIAN);
  view.setUint32(WAL_HEADER.formatVersion, WAL_FORMAT_VERSION);
  view.setUint32(WAL_HEADER.pageSize, SMALL_PAGE);
  view.setUint32(WAL_HEADER.salt1, salts[0]);
  view.setUint32(WAL_HEADER.salt2, salts[1]);
  const checksum = walChecksum(bytes.subarray(0, WAL_HEADER.checksummedBytes), bigEndian);
  view.setUint32(WAL_HEADER.checksum1, checksum.s1);
  view.setUint32(WAL_HEADER.checksum2, checksum.s2);
  return { bytes, checksum };
}

function syntheticFrames(frames: SyntheticFrame[], salts: [number, number], seed: WalChecksum, bigEndian = false): { bytes: Uint8Array; checksum: WalChecksum } {
  const size = frameSizeBytes(SMALL_PAGE);
  const bytes = new Uint8Array(frames.length * size);
  let checksum = seed;
  frames.forEach((f, i) => {
    const frame = bytes.subarray(i * size, (i + 1) * size);
    const view = new DataView(frame.buffer, frame.byteOffset, size);
    view.setUint32(WAL_FRAME_HEADER.pageNumber, f.pgno);
    view.setUint32(WAL_FRAME_HEADER.dbSizeAfterCommit, f.commit ?? 0);
    view.setUint32(WAL_FRAME_HEADER.salt1, (f.salts ?? salts)[0]);
    view.setUint32(WAL_FRAME_HEADER.salt2, (f.salts ?? salts)[1]);
    frame.fill(f.fill, WAL_FRAME_HEADER.sizeBytes);
    checksum = walChecksum(frame.subarray(0, WAL_FRAME_HEADER.checksummedBytes), bigEndian, checksum);
    checksum = walChecksum(frame.subarray(WAL_FRAME_HEADER.sizeBytes), bigEndian, checksum);
    view.setUint32(WAL_FRAME_HEADER.checksum1, checksum.s1);
    view.setUint32(WAL_FRAME_HEADER.checksum2, checksum.s2);
  });
  return { bytes, checksum };
}

function syntheticWal(frames: SyntheticFrame[], options: { salts?: [number, number]; bigEndian?: boolean } = {}): Uint8Array {
  const salts = options.salts ?? [11, 22];
  const header = syntheticHeader(salts, options.bigEndian);
  return Buffer.concat([header.bytes, syntheticFrames(frames, salts, header.checksum, options.bigEndian).bytes]);
}

const at = (frames: number) => WAL_HEADER.sizeBytes + frames * frameSizeBytes(SMALL_PAGE);
const summary = (commits: CapturedCommit[]) =>
  commits.map((c) => ({ pageCount: c.pageCount, pages: [...c.pages].sort(([a], [b]) => a - b).map(([pgno, page]) => [pgno, page[0]]), offset: c.end.offset }));

describe('WalCapture on synthetic logs', () => {
  test.each([false, true])('returns each commit with its latest page images (big-endian checksums: %s)', (bigEndian) => {
    const wal = join(freshDir(), 'x-wal');
    writeFileSync(wal, syntheticWal([
      { pgno: 1, fill: 1 },
      { pgno: 2, fill: 2 },
      { pgno: 2, fill: 5 },
      { pgno: 1, fill: 3, commit: 2 },
      { pgno: 3, fill: 4, commit: 3 },
    ], { bigEndian }));
    const capture = new WalCapture(wal);
    expect(summary(capture.poll())).toEqual([
      { pageCount: 2, pages: [[1, 3], [2, 5]], offset: at(4) },
      { pageCount: 3, pages: [[3, 4]], offset: at(5) },
    ]);
    expect(capture.position()).toEqual({ salt1: 11, salt2: 22, offset: at(5) });
  });

  test('drops pages past the commit’s db size', () => {
    const wal = join(freshDir(), 'x-wal');
    writeFileSync(wal, syntheticWal([{ pgno: 5, fill: 5 }, { pgno: 4, fill: 4 }, { pgno: 2, fill: 2, commit: 3 }]));
    expect(summary(new WalCapture(wal).poll())).toEqual([{ pageCount: 3, pages: [[2, 2]], offset: at(3) }]);
  });

  test('leaves an uncommitted tail for a later poll, and reads only what is new', () => {
    const wal = join(freshDir(), 'x-wal');
    const salts: [number, number] = [11, 22];
    const header = syntheticHeader(salts);
    const first = syntheticFrames([{ pgno: 1, fill: 1, commit: 1 }, { pgno: 2, fill: 2 }], salts, header.checksum);
    writeFileSync(wal, Buffer.concat([header.bytes, first.bytes]));
    const capture = new WalCapture(wal);
    expect(summary(capture.poll())).toEqual([{ pageCount: 1, pages: [[1, 1]], offset: at(1) }]);
    expect(capture.poll()).toEqual([]);

    const rest = syntheticFrames([{ pgno: 3, fill: 3, commit: 3 }], salts, first.checksum);
    writeFileSync(wal, rest.bytes, { flag: 'a' });
    expect(summary(capture.poll())).toEqual([{ pageCount: 3, pages: [[2, 2], [3, 3]], offset: at(3) }]);
    expect(capture.poll()).toEqual([]);
  });

  test('stops at the first invalid frame even if valid-looking commits follow', () => {
    const frames: SyntheticFrame[] = [{ pgno: 1, fill: 1, commit: 1 }, { pgno: 1, fill: 2, commit: 1 }, { pgno: 1, fill: 3, commit: 1 }];
    const dir = freshDir();

    const corrupt = syntheticWal(frames);
    corrupt[at(1) + WAL_FRAME_HEADER.sizeBytes + 7]! ^= 0x40;
    writeFileSync(join(dir, 'a-wal'), corrupt);
    expect(summary(new WalCapture(join(dir, 'a-wal')).poll())).toEqual([{ pageCount: 1, pages: [[1, 1]], offset: at(1) }]);

    // A frame stamped with other salts (a stale frame from an earlier log
    // generation) ends the log even though its checksum chains correctly.
    writeFileSync(join(dir, 'b-wal'), syntheticWal([frames[0]!, { ...frames[1]!, salts: [11, 23] }, frames[2]!]));
    expect(summary(new WalCapture(join(dir, 'b-wal')).poll())).toEqual([{ pageCount: 1, pages: [[1, 1]], offset: at(1) }]);
  });

  test('treats copies of a commit frame up to a sector boundary as padding, not commits', () => {
    const wal = join(freshDir(), 'x-wal');
    writeFileSync(wal, syntheticWal([
      { pgno: 2, fill: 2 },
      { pgno: 1, fill: 1, commit: 2 },
      { pgno: 1, fill: 1, commit: 2 },
      { pgno: 1, fill: 1, commit: 2 },
      { pgno: 1, fill: 9, commit: 2 },
    ]));
    expect(summary(new WalCapture(wal).poll())).toEqual([
      { pageCount: 2, pages: [[1, 1], [2, 2]], offset: at(4) },
      { pageCount: 2, pages: [[1, 9]], offset: at(5) },
    ]);
  });

  test('follows a restart: new salts, frames from offset 32 again, stale frames beyond ignored', () => {
    const wal = join(freshDir(), 'x-wal');
    writeFileSync(wal, syntheticWal([1, 2, 3, 4].map((n) => ({ pgno: n, fill: n, commit: n }))));
    const capture = new WalCapture(wal);
    expect(capture.poll()).toHaveLength(4);

    // The next writer rewrites the header and the first frame in place; the file keeps its length.
    const restarted = syntheticWal([{ pgno: 1, fill: 7, commit: 4 }], { salts: [12, 99] });
    const fd = openSync(wal, 'r+');
    writeFileSync(fd, restarted);
    closeSync(fd);
    expect(statSync(wal).size).toBe(at(4));
    expect(summary(capture.poll())).toEqual([{ pageCount: 4, pages: [[1, 7]], offset: at(1) }]);
    expect(capture.position()).toEqual({ salt1: 12, salt2: 99, offset: at(1) });

    // A TRUNCATE checkpoint leaves an empty file: nothing to read, position unchanged.
    writeFileSync(wal, new Uint8Array(0));
    expect(capture.poll()).toEqual([]);
    expect(capture.position()).toEqual({ salt1: 12, salt2: 99, offset: at(1) });
    writeFileSync(wal, syntheticWal([{ pgno: 2, fill: 8, commit: 4 }], { salts: [13, 5] }));
    expect(summary(capture.poll())).toEqual([{ pageCount: 4, pages: [[2, 8]], offset: at(1) }]);
  });

  test('a missing or headerless file has no commits; a page size mismatch and use after close throw', () => {
    const dir = freshDir();
    const capture = new WalCapture(join(dir, 'x-wal'));
    expect(capture.poll()).toEqual([]);
    expect(capture.position()).toEqual({ salt1: 0, salt2: 0, offset: 0 });
    writeFileSync(join(dir, 'x-wal'), new Uint8Array(20));
    expect(capture.poll()).toEqual([]);

    writeFileSync(join(dir, 'y-wal'), syntheticWal([{ pgno: 1, fill: 1, commit: 1 }]));
    expect(() => new WalCapture(join(dir, 'y-wal'), { pageSize: 4096 }).poll()).toThrow(/512-byte pages/);
    capture.close();
    expect(() => capture.poll()).toThrow(/closed/);
  });
});

// ---------------------------------------------------------------------------
// Real SQLite.

const PAGE = 4096;

function openDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma(`page_size = ${PAGE}`);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('synchronous = FULL');
  return db;
}

function checkpoint(db: Database.Database, mode: 'PASSIVE' | 'TRUNCATE'): void {
  const [row] = db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>;
  expect(row, `checkpoint ${mode}`).toBeDefined();
  expect(row!.busy, `checkpoint ${mode} busy`).toBe(0);
  expect(row!.checkpointed, `checkpoint ${mode} incomplete`).toBe(row!.log);
}

function applyCommit(image: Uint8Array, commit: CapturedCommit): Uint8Array {
  const next = new Uint8Array(commit.pageCount * PAGE);
  next.set(image.subarray(0, Math.min(image.length, next.length)));
  for (const [pgno, page] of commit.pages) {
    expect(pgno).toBeGreaterThan(0);
    expect(pgno).toBeLessThanOrEqual(commit.pageCount);
    expect(page.length).toBe(PAGE);
    next.set(page, (pgno - 1) * PAGE);
  }
  return next;
}

/** Null when equal, else a description of the first difference, so a failure says where. */
function difference(actual: Uint8Array, expected: Uint8Array): string | null {
  if (Buffer.compare(actual, expected) === 0) return null;
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  const i = actual.findIndex((b, j) => b !== expected[j]);
  return `first difference at byte ${i} (page ${Math.floor(i / PAGE) + 1})`;
}

interface Scan {
  salt1: number;
  frames: Array<{ pgno: number; dbSize: number; end: number }>;
  /** Valid frames after the last commit frame: a transaction still open, or one rolled back. */
  orphans: number;
  /** Whether a frame of an older generation follows the valid ones. */
  staleBeyond: boolean;
}

/** The valid frames of the current log generation, to check which case a transaction exercised. */
function scanWal(walPath: string): Scan {
  const fd = openSync(walPath, statSync(walPath, { throwIfNoEntry: false }) ? 'r' : 'a+');
  try {
    const header = readWalHeader(fd);
    if (!header) return { salt1: 0, frames: [], orphans: 0, staleBeyond: false };
    const frames = [...walFrames(fd, header, walStart(header))].map((f) => ({ pgno: f.header.pageNumber, dbSize: f.header.dbSizePagesAfterCommit, end: f.next.offset }));
    const next = Buffer.alloc(WAL_FRAME_HEADER.sizeBytes);
    const read = readSync(fd, next, 0, next.length, frames.at(-1)?.end ?? WAL_HEADER.sizeBytes);
    return {
      salt1: header.salt1,
      frames,
      orphans: frames.length - 1 - frames.findLastIndex((f) => f.dbSize !== 0),
      staleBeyond: read === next.length && next.readUInt32BE(WAL_FRAME_HEADER.salt1) !== header.salt1,
    };
  } finally {
    closeSync(fd);
  }
}

const SEED = Number(process.env.WAL_SEED ?? 20240611);
const TRANSACTIONS = Number(process.env.WAL_TRANSACTIONS ?? 400);

test(`pages captured from the WAL rebuild the database byte for byte (seed ${SEED})`, () => {
  onTestFailed(() => {
    console.error(`WAL property test failed with seed ${SEED}; rerun with WAL_SEED=${SEED} pnpm vitest run src/wal/wal-capture.test.ts`);
  });
  const rng = xoroshiro128plus(SEED);
  const random = () => uniformFloat64(rng);
  const int = (lo: number, hi: number) => uniformInt(rng, lo, hi);
  const bytes = (n: number) => {
    const out = Buffer.allocUnsafe(Math.ceil(n / 4) * 4);
    for (let i = 0; i < out.length; i += 4) out.writeUInt32LE(uniformInt(rng, 0, 2 ** 32 - 1), i);
    return out.subarray(0, n);
  };
  const text = (n: number) => bytes(Math.ceil((n * 3) / 4) + 4).toString('base64').slice(0, n);

  const dir = freshDir();
  const dbPath = join(dir, 'doc.sqlite');
  const walPath = `${dbPath}-wal`;
  const db = openDb(dbPath);
  db.exec(`
    CREATE TABLE items (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v INTEGER NOT NULL, body BLOB);
    CREATE TABLE notes (id INTEGER PRIMARY KEY, txt TEXT NOT NULL);
  `);
  checkpoint(db, 'TRUNCATE');
  // A tiny page cache makes big transactions spill frames to the WAL before they commit or roll back.
  db.pragma('cache_size = 10');
  let replica: Uint8Array = new Uint8Array(readFileSync(dbPath));
  const capture = new WalCapture(walPath, { pageSize: PAGE });
  expect(capture.poll()).toEqual([]);

  const insert = db.prepare('INSERT INTO items (k, v, body) VALUES (?, ?, ?)');
  const maxId = () => (db.prepare('SELECT coalesce(max(id), 0) AS m FROM items').get() as { m: number }).m;
  const seen = { rolledBackGrowth: 0, rolledBackOrphans: 0, shrinks: 0, pagesPastEnd: 0, staleAfterRestart: 0, multiCommitPolls: 0, checkpoints: 0, serializeChecks: 0 };

  let previousEnd: WalPosition = capture.position();
  let unpolled = 0;
  const pollAndApply = () => {
    const commits = capture.poll();
    expect(commits.length).toBeLessThanOrEqual(unpolled);
    if (commits.length > 1) seen.multiCommitPolls++;
    for (const commit of commits) {
      if (commit.pageCount < replica.length / PAGE) seen.shrinks++;
      const sameGeneration = commit.end.salt1 === previousEnd.salt1 && commit.end.salt2 === previousEnd.salt2;
      if (sameGeneration) expect(commit.end.offset).toBeGreaterThan(previousEnd.offset);
      else if (scanWal(walPath).staleBeyond) seen.staleAfterRestart++;
      replica = applyCommit(replica, commit);
      previousEnd = commit.end;
    }
    expect(capture.position()).toEqual(previousEnd);
    unpolled = 0;
    return commits;
  };

  // Each operation is one transaction, committed unless its name says otherwise.
  const operations: Array<[weight: number, name: string, run: () => void]> = [
    [30, 'insert small rows', () => db.transaction(() => {
      for (let n = int(1, 20); n > 0; n--) insert.run(text(int(1, 30)), int(0, 1e6), random() < 0.5 ? null : bytes(int(0, 200)));
    })()],
    [14, 'update rows', () => {
      const lo = int(0, maxId());
      db.prepare('UPDATE items SET v = v + ?, k = ? WHERE id BETWEEN ? AND ?').run(int(1, 9), text(int(1, 40)), lo, lo + int(0, 30));
    }],
    [10, 'delete rows', () => {
      const lo = int(0, maxId());
      db.prepare('DELETE FROM items WHERE id BETWEEN ? AND ?').run(lo, lo + int(0, 10));
    }],
    [10, 'insert overflow blobs', () => db.transaction(() => {
      for (let n = int(1, 3); n > 0; n--) insert.run(text(8), int(0, 9), bytes(int(10_000, 50_000)));
    })()],
    [6, 'insert notes', () => db.prepare('INSERT INTO notes (txt) VALUES (?)').run(text(int(10, 3000)))],
    [3, 'create index', () => db.exec('CREATE INDEX IF NOT EXISTS items_k ON items (k, v)')],
    [3, 'drop index', () => db.exec('DROP INDEX IF EXISTS items_k')],
    [4, 'bulk delete', () => db.prepare('DELETE FROM items WHERE id % ? <> 0').run(int(2, 6))],
    [4, 'incremental vacuum', () => db.exec('PRAGMA incremental_vacuum')],
    [3, 'vacuum', () => db.exec('VACUUM')],
    [4, 'grow then shrink in one transaction', () => {
      const before = scanWal(walPath);
      db.exec('BEGIN');
      const first = maxId() + 1;
      for (let n = int(20, 40); n > 0; n--) insert.run('tmp', 0, bytes(int(8_000, 30_000)));
      db.prepare('DELETE FROM items WHERE id >= ?').run(first);
      db.exec('PRAGMA incremental_vacuum');
      db.exec('COMMIT');
      const after = scanWal(walPath);
      const frames = after.salt1 === before.salt1 ? after.frames.slice(before.frames.length) : after.frames;
      const commitSize = frames.at(-1)?.dbSize ?? 0;
      if (frames.some((f) => f.pgno > commitSize)) seen.pagesPastEnd++;
    }],
    [9, 'rolled-back spill', () => {
      const walBefore = statSync(walPath, { throwIfNoEntry: false })?.size ?? 0;
      const orphansBefore = scanWal(walPath).orphans;
      db.exec('BEGIN');
      for (let n = int(50, 150); n > 0; n--) insert.run(text(20), int(0, 9), bytes(int(1_000, 6_000)));
      db.prepare('UPDATE items SET v = -1').run();
      const walDuring = statSync(walPath, { throwIfNoEntry: false })?.size ?? 0;
      db.exec('ROLLBACK');
      if (walDuring > walBefore) seen.rolledBackGrowth++;
      if (scanWal(walPath).orphans > orphansBefore) seen.rolledBackOrphans++;
    }],
  ];
  const totalWeight = operations.reduce((n, [w]) => n + w, 0);
  const pick = () => {
    let r = random() * totalWeight;
    for (const op of operations) if ((r -= op[0]) < 0) return op;
    return operations[0]!;
  };

  const history: string[] = [];
  onTestFailed(() => console.error(`last operations: ${history.slice(-8).join(', ')}`));
  for (let i = 1; i <= TRANSACTIONS; i++) {
    const [, name, run] = pick();
    history.push(name);
    run();
    if (!name.startsWith('rolled-back')) unpolled++;
    // Sometimes let commits pile up, so one poll has to return several in order.
    if (random() < 0.75) pollAndApply();
    if (i % 10 === 0) {
      pollAndApply();
      expect(difference(replica, db.serialize()), `after transaction ${i}`).toBeNull();
      seen.serializeChecks++;
    }
    if (i % 25 === 0) {
      pollAndApply(); // always before a checkpoint: the next writer overwrites unread frames
      const mode = (i / 25) % 2 === 0 ? 'TRUNCATE' : 'PASSIVE';
      checkpoint(db, mode);
      seen.checkpoints++;
      if (mode === 'TRUNCATE') expect(statSync(walPath).size).toBe(0);
      expect(capture.poll()).toEqual([]);
    }
  }

  pollAndApply();
  checkpoint(db, 'TRUNCATE');
  expect(capture.poll()).toEqual([]);
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  expect(replica.length).toBe(pageCount * PAGE);
  expect(difference(replica, readFileSync(dbPath))).toBeNull();
  expect(difference(replica, db.serialize())).toBeNull();
  expect(difference(replica, readDbFilePages(dbPath, pageCount, PAGE))).toBeNull();
  db.close();
  capture.close();

  // Each case the test claims to cover must actually have happened.
  console.log(`WAL property test (seed ${SEED}):`, seen);
  expect(seen.rolledBackGrowth).toBeGreaterThan(0);
  expect(seen.rolledBackOrphans).toBeGreaterThan(0);
  expect(seen.shrinks).toBeGreaterThan(0);
  expect(seen.pagesPastEnd).toBeGreaterThan(0);
  expect(seen.staleAfterRestart).toBeGreaterThan(0);
  expect(seen.multiCommitPolls).toBeGreaterThan(0);
  expect(seen.checkpoints).toBeGreaterThan(10);
});

test('a WAL copied mid-stream and corrupted in one frame yields only the commits before that frame', () => {
  const dir = freshDir();
  const dbPath = join(dir, 'doc.sqlite');
  const db = openDb(dbPath);
  db.exec('CREATE TABLE t (x)');
  checkpoint(db, 'TRUNCATE');
  for (let i = 0; i < 5; i++) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(5000, i));
  const { frames } = scanWal(`${dbPath}-wal`);
  const commitEnds = frames.filter((f) => f.dbSize !== 0).map((f) => f.end);
  expect(commitEnds).toHaveLength(5);

  const copy = join(dir, 'copy-wal');
  copyFileSync(`${dbPath}-wal`, copy);
  db.close();
  const bytes = readFileSync(copy);
  // Corrupt the last byte of the page in the first frame after commit 2.
  bytes[commitEnds[1]! + frameSizeBytes(PAGE) - 1]! ^= 0xff;
  writeFileSync(copy, bytes);
  const commits = new WalCapture(copy, { pageSize: PAGE }).poll();
  expect(commits.map((c) => c.end.offset)).toEqual(commitEnds.slice(0, 2));
});

test('a WAL that SQLite deleted and created again is read from its new file (the capture keeps its descriptor between polls)', () => {
  const dir = freshDir();
  const dbPath = join(dir, 'doc.sqlite');
  const capture = new WalCapture(`${dbPath}-wal`, { pageSize: PAGE });
  let db = openDb(dbPath);
  db.exec('CREATE TABLE t (x)');
  expect(capture.poll()).toHaveLength(1);
  // The last connection's close checkpoints and deletes the WAL.
  db.close();
  expect(capture.poll()).toEqual([]);
  db = openDb(dbPath);
  db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(5000, 7));
  // The new file's commits, the insert last.
  expect(capture.poll().at(-1)?.pageCount).toBe(db.pragma('page_count', { simple: true }));
  expect(capture.poll()).toEqual([]);
  db.close();
  capture.close();
});
