import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import {
  WAL_FORMAT_VERSION,
  WAL_FRAME_HEADER,
  WAL_HEADER,
  WAL_MAGIC_BIG_ENDIAN,
  WAL_MAGIC_LITTLE_ENDIAN,
  checkFrame,
  frameSizeBytes,
  parseFrameHeader,
  parseWalHeader,
  walChecksum,
} from './wal-format.js';

/** A WAL written by SQLite itself: two commits, of one frame and of three. */
function realWal(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'quire-walfmt-'));
  const db = new Database(join(dir, 'a.db'));
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (x)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.prepare('INSERT INTO t VALUES (?)').run('a');
  db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(6000, 7)); // overflows onto a second page
  const wal = readFileSync(join(dir, 'a.db-wal'));
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return new Uint8Array(wal);
}

describe('walChecksum', () => {
  test('sums word pairs in the requested byte order', () => {
    const bytes = Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0);
    // s1 = 0 + 1 + 0 = 1; s2 = 0 + 2 + 1 = 3
    expect(walChecksum(bytes, false)).toEqual({ s1: 1, s2: 3 });
    expect(walChecksum(bytes, true)).toEqual({ s1: 0x01000000, s2: 0x03000000 });
  });

  test('wraps like 32-bit unsigned arithmetic', () => {
    const bytes = new Uint8Array(8).fill(0xff);
    // s1 = 0xffffffff + 1 (seed s2) wraps to 0; s2 = 1 + 0xffffffff + 0 wraps to 0.
    expect(walChecksum(bytes, false, { s1: 0, s2: 1 })).toEqual({ s1: 0, s2: 0 });
    // s1 = 0xffffffff, s2 = 0xffffffff + 0xffffffff = 0x1fffffffe -> 0xfffffffe
    expect(walChecksum(bytes, false)).toEqual({ s1: 0xffffffff, s2: 0xfffffffe });
  });

  test('chains: summing in two parts equals summing the whole', () => {
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
    const whole = walChecksum(bytes, false);
    expect(walChecksum(bytes.subarray(24), false, walChecksum(bytes.subarray(0, 24), false))).toEqual(whole);
    expect(whole).not.toEqual(walChecksum(bytes, true));
  });

  test('the same bytes at an offset that is not word-aligned sum the same, in both byte orders', () => {
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff);
    const shifted = new Uint8Array(4096 + 1);
    shifted.set(bytes, 1);
    for (const bigEndian of [false, true]) expect(walChecksum(shifted.subarray(1), bigEndian, { s1: 5, s2: 9 })).toEqual(walChecksum(bytes, bigEndian, { s1: 5, s2: 9 }));
  });

  test('rejects input that is not whole word pairs', () => {
    expect(() => walChecksum(new Uint8Array(12), false)).toThrow(RangeError);
  });
});

describe('parsing a WAL written by SQLite', () => {
  const wal = realWal();
  const header = parseWalHeader(wal)!;
  const frameBytes = frameSizeBytes(4096);

  test('the header parses with its fields in place', () => {
    const view = new DataView(wal.buffer, wal.byteOffset);
    expect(header).not.toBeNull();
    expect([WAL_MAGIC_LITTLE_ENDIAN, WAL_MAGIC_BIG_ENDIAN]).toContain(view.getUint32(WAL_HEADER.magic));
    expect(header.formatVersion).toBe(WAL_FORMAT_VERSION);
    expect(header.pageSizeBytes).toBe(4096);
    expect(header.salt1).toBe(view.getUint32(WAL_HEADER.salt1));
    expect(header.salt2).toBe(view.getUint32(WAL_HEADER.salt2));
    expect(header.checksum).toEqual({ s1: view.getUint32(WAL_HEADER.checksum1), s2: view.getUint32(WAL_HEADER.checksum2) });
    expect(wal.length).toBe(WAL_HEADER.sizeBytes + 4 * frameBytes);
  });

  test('each frame checks against the chain, and the commit frames carry the db size', () => {
    let checksum = header.checksum;
    const sizes: number[] = [];
    const pages: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = WAL_HEADER.sizeBytes + i * frameBytes;
      const frame = wal.subarray(at, at + frameBytes);
      const valid = checkFrame(header, checksum, frame);
      expect(valid, `frame ${i}`).not.toBeNull();
      expect(valid!.header).toEqual(parseFrameHeader(frame));
      expect(valid!.header.salt1).toBe(header.salt1);
      checksum = valid!.checksum;
      sizes.push(valid!.header.dbSizePagesAfterCommit);
      pages.push(valid!.header.pageNumber);
    }
    // Commit 1 rewrites the table's page. Commit 2 adds an overflow page, so
    // page 1 changes too (its header records the database size).
    expect(pages).toEqual([2, 1, 2, 3]);
    expect(sizes).toEqual([2, 0, 0, 3]);
  });

  test('a header with any byte changed does not parse', () => {
    for (const at of [WAL_HEADER.magic + 3, WAL_HEADER.formatVersion + 3, WAL_HEADER.pageSize + 2, WAL_HEADER.salt1, WAL_HEADER.checksum2 + 3]) {
      const bad = wal.slice(0, WAL_HEADER.sizeBytes);
      bad[at]! ^= 0x10;
      expect(parseWalHeader(bad), `byte ${at}`).toBeNull();
    }
    expect(parseWalHeader(wal.subarray(0, 31))).toBeNull();
  });

  test('a frame fails on a flipped page byte, wrong salts, wrong seed or page number 0', () => {
    const first = () => wal.slice(WAL_HEADER.sizeBytes, WAL_HEADER.sizeBytes + frameBytes);
    expect(checkFrame(header, header.checksum, first())).not.toBeNull();

    const flipped = first();
    flipped[WAL_FRAME_HEADER.sizeBytes + 100]! ^= 1;
    expect(checkFrame(header, header.checksum, flipped)).toBeNull();

    // Salts are outside the checksummed bytes, so only the salt comparison can catch this.
    const salted = first();
    salted[WAL_FRAME_HEADER.salt2]! ^= 1;
    expect(checkFrame(header, header.checksum, salted)).toBeNull();

    expect(checkFrame(header, { s1: header.checksum.s1 + 1, s2: header.checksum.s2 }, first())).toBeNull();

    // Page number 0 with a checksum recomputed to match: only the page-number rule rejects it.
    const pageZero = first();
    pageZero.fill(0, WAL_FRAME_HEADER.pageNumber, WAL_FRAME_HEADER.pageNumber + 4);
    const resummed = walChecksum(pageZero.subarray(WAL_FRAME_HEADER.sizeBytes), header.checksumBigEndian, walChecksum(pageZero.subarray(0, 8), header.checksumBigEndian, header.checksum));
    const view = new DataView(pageZero.buffer, pageZero.byteOffset);
    view.setUint32(WAL_FRAME_HEADER.checksum1, resummed.s1);
    view.setUint32(WAL_FRAME_HEADER.checksum2, resummed.s2);
    expect(checkFrame(header, header.checksum, pageZero)).toBeNull();
    view.setUint32(WAL_FRAME_HEADER.pageNumber, 2);
    expect(checkFrame(header, header.checksum, pageZero)).toBeNull(); // and the checksum did cover it

    expect(checkFrame(header, header.checksum, first().subarray(0, frameBytes - 8))).toBeNull();
  });
});
