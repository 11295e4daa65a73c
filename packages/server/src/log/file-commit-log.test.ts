import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { RECENT_COMMITS, type CommitRecord } from './commit-log.js';
import { checkpoint, checkpointPages, record, runCommitLogContract } from './commit-log.contract.js';
import { RECORD, encodeRecord } from './commit-record-codec.js';
import { FileCommitLog } from './file-commit-log.js';

const root = mkdtempSync(join(tmpdir(), 'quire-log-'));
const logs = new Map<string, string>();
runCommitLogContract('FileCommitLog', (key) => {
  if (!logs.has(key)) logs.set(key, mkdtempSync(join(root, `${key}-`)));
  return new FileCommitLog(logs.get(key)!);
});

test('a torn last record is dropped on open, and appends continue after the good ones', async () => {
  const dir = mkdtempSync(join(root, 'torn-'));
  const log = new FileCommitLog(dir);
  await log.open();
  await log.append([record(1), record(2)]);
  await log.close();
  const file = join(dir, 'log', '00000000000000000001.qlog');
  const bytes = readFileSync(file);
  const good = statSync(file).size;
  // Simulate a crash halfway through appending record 3.
  const third = Buffer.from(encodeRecord(record(3)));
  writeFileSync(file, Buffer.concat([bytes, third.subarray(0, third.length >> 1)]));

  const reopened = new FileCommitLog(dir);
  expect((await reopened.open()).last?.lsn).toBe(2);
  expect(statSync(file).size).toBe(good);
  await reopened.append([record(3)]);
  await reopened.close();
  const last = new FileCommitLog(dir);
  expect((await last.open()).last?.lsn).toBe(3);
  await last.close();
});

test('a flipped bit in a record stops recovery there', async () => {
  const dir = mkdtempSync(join(root, 'flip-'));
  const log = new FileCommitLog(dir);
  await log.open();
  await log.append([record(1), record(2), record(3)]);
  await log.close();
  const file = join(dir, 'log', '00000000000000000001.qlog');
  const bytes = readFileSync(file);
  const recordBytes = bytes.length / 3;
  bytes[Math.floor(recordBytes * 1.5)]! ^= 0x10;
  writeFileSync(file, bytes);
  const reopened = new FileCommitLog(dir);
  expect((await reopened.open()).last?.lsn).toBe(1);
  await reopened.close();
});

/** Rewrites a record's body with `edit`, then its length and CRC, so only the decoder can tell it is wrong. */
function reseal(encoded: Uint8Array, edit: (body: Buffer) => Buffer): Buffer {
  const body = edit(Buffer.from(encoded.subarray(RECORD.headerBytes, encoded.length - RECORD.trailerBytes)));
  const out = Buffer.alloc(RECORD.headerBytes + body.length + RECORD.trailerBytes);
  out.writeUInt32BE(RECORD.magic, 0);
  out.writeUInt32BE(body.length, 4);
  body.copy(out, RECORD.headerBytes);
  out.writeUInt32BE(crc32(body), RECORD.headerBytes + body.length);
  return out;
}

/**
 * The record the old encoder wrote for a rejection code of 70 KiB: the code's
 * u16 length wrapped to 6144, but all 71680 bytes were written and summed.
 */
function wrappedCodeRecord(lsn: number): Buffer {
  const marker = 'CODE-MARKER';
  const encoded = encodeRecord(record(lsn, { rejections: [{ clientId: 'c', seq: 1, code: marker, message: 'refused' }] }));
  return reseal(encoded, (body) => {
    const at = body.indexOf(marker);
    body.writeUInt16BE((70 * 1024) & 0xffff, at - 2);
    return Buffer.concat([body.subarray(0, at), Buffer.alloc(70 * 1024, 'x'), body.subarray(at + marker.length)]);
  });
}

describe('a record that passes its checksum but does not decode', () => {
  test.each([
    ['in the middle', 2],
    ['at the end', 3],
  ])('%s: open fails with corrupt_log and leaves the file as it was', async (_where, bad) => {
    const dir = mkdtempSync(join(root, 'undecodable-'));
    const file = join(dir, 'commits.qlog');
    const records = [1, 2, 3].map((lsn) => (lsn === bad ? wrappedCodeRecord(lsn) : Buffer.from(encodeRecord(record(lsn)))));
    writeFileSync(file, Buffer.concat(records));
    const before = readFileSync(file);
    const at = records.slice(0, bad - 1).reduce((n, r) => n + r.length, 0);

    const log = new FileCommitLog(dir);
    const opening = log.open();
    await expect(opening).rejects.toThrow(expect.objectContaining({ code: 'corrupt_log' }));
    const message = ((await opening.catch((e: unknown) => e)) as Error).message;
    expect(message).toContain(`the record at byte ${at} (after LSN ${bad - 1}) passes its checksum but does not decode`);
    expect(message).toMatch(/restore the document from a backup, or truncate the file to \d+ bytes/);
    await log.close();
    expect(readFileSync(file).equals(before), 'the file is untouched').toBe(true);
  });
});

describe('segments, checkpoints and compaction', () => {
  /** A commit with no page images: 100,000 of them fit in a few megabytes. */
  const small = (lsn: number): CommitRecord => record(lsn, { pages: [], pageCount: 2 });

  test('a document with 100,000 commits opens reading only the commits after its checkpoint, and compaction leaves the retention window plus one segment', async () => {
    const dir = mkdtempSync(join(root, 'many-'));
    const log = new FileCommitLog(dir);
    await log.open();
    const total = 100_000;
    for (let lsn = 1; lsn <= total; lsn += 1000) {
      await log.append(Array.from({ length: 1000 }, (_, i) => small(lsn + i)));
      // A checkpoint every 1000 commits, as the coordinator's policy writes them.
      await log.writeCheckpoint(checkpoint(lsn + 999, 2), checkpointPages(lsn + 999, 2));
    }
    await log.append(Array.from({ length: 500 }, (_, i) => small(total + 1 + i)));
    const last = total + 500;
    const recordBytes = encodeRecord(small(1)).length;

    const uncompacted = new FileCommitLog(dir, { readOnly: true });
    expect((await uncompacted.open()).last?.lsn).toBe(last);
    // Open reads the checkpoint's footer and the 500 commits after it, not 100,500.
    expect(uncompacted.openCost.recordsRead).toBe(500);
    expect(uncompacted.openCost.bytesRead).toBeLessThan(500 * recordBytes + 4096);
    await uncompacted.close();

    const removed = await log.compact(last - RECENT_COMMITS);
    expect(removed.checkpointsRemoved).toBe(99);
    const { commits: segments, checkpoints } = await log.storedBytes();
    // Whole segments go: what stays is the window (1024 commits) plus at most one segment (1000 here).
    expect(segments).toBeLessThanOrEqual((RECENT_COMMITS + 1000) * recordBytes);
    expect(checkpoints).toBeLessThan(4096);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual([`${String(total).padStart(20, '0')}.qcp`]);
    await log.close();

    const reopened = new FileCommitLog(dir);
    const summary = await reopened.open();
    expect(summary.last?.lsn).toBe(last);
    expect(summary.firstLsn).toBe(99_001);
    expect(summary.checkpoint?.lsn).toBe(total);
    expect(reopened.openCost.recordsRead).toBe(500);
    await reopened.close();
  });

  /** A commit with one page image (4 KiB): what a small write to a real document logs. */
  const onePage = (lsn: number): CommitRecord => record(lsn, { pageCount: 2, pages: record(lsn).pages.slice(0, 1) });

  test('a log whose checkpoint is at its last commit opens reading the headers of the segment holding it, not its pages', async () => {
    const dir = mkdtempSync(join(root, 'covered-'));
    const log = new FileCommitLog(dir);
    await log.open();
    await log.append(Array.from({ length: 1000 }, (_, i) => onePage(i + 1)));
    await log.writeCheckpoint(checkpoint(1000, 2), checkpointPages(1000, 2));
    await log.close();
    const recordBytes = encodeRecord(onePage(1)).length;

    const reopened = new FileCommitLog(dir);
    const summary = await reopened.open();
    expect([summary.last?.lsn, summary.checkpoint?.lsn, summary.firstLsn]).toEqual([1000, 1000, 1]);
    expect(summary.last).toEqual((({ pages: _, ...rest }) => rest)(onePage(1000)));
    // Only the checkpoint's own record is read whole (for `last`); the 999 before it by their 8-byte headers.
    expect(reopened.openCost.recordsRead).toBe(1);
    expect(reopened.openCost.bytesRead).toBeLessThan(999 * RECORD.headerBytes + recordBytes + 4096);
    // Stepped-over records are still found, and checked, when read.
    expect(await collectAll(reopened.readAfter(997))).toEqual([onePage(998), onePage(999), onePage(1000)]);
    await reopened.append([onePage(1001)]);
    await reopened.close();
    expect(readdirSync(join(dir, 'log'))).toEqual(['00000000000000000001.qlog', '00000000000000001001.qlog']);
  });

  test('commits appended to the segment after a checkpoint (while it was written) are read whole; a bad bit before the checkpoint is found when that commit is read', async () => {
    const dir = mkdtempSync(join(root, 'covered-after-'));
    const log = new FileCommitLog(dir);
    await log.open();
    await log.append([1, 2, 3, 4, 5].map(onePage));
    const rejected = { clientId: 'c', seq: 7, code: 'reducer_error', message: 'no' };
    await log.append([6, 7, 8].map((lsn) => (lsn === 7 ? { ...onePage(7), rejections: [rejected] } : onePage(lsn))));
    await log.writeCheckpoint(checkpoint(5, 2), checkpointPages(5, 2));
    await log.close();
    // A flipped bit in commit 2's page image: the checkpoint covers it.
    const file = join(dir, 'log', '00000000000000000001.qlog');
    const bytes = readFileSync(file);
    const recordBytes = encodeRecord(onePage(1)).length;
    bytes[recordBytes + 200]! ^= 0x10;
    writeFileSync(file, bytes);

    const reopened = new FileCommitLog(dir);
    const summary = await reopened.open();
    expect(summary.last?.lsn).toBe(8);
    expect(summary.rejections).toEqual([rejected]);
    expect(summary.recent.map((r) => r.lsn)).toEqual([6, 7, 8]);
    expect(reopened.openCost.recordsRead).toBe(4);
    expect((await collectAll(reopened.readAfter(4))).map((r) => r.lsn)).toEqual([5, 6, 7, 8]);
    await expect(collectAll(reopened.readAfter(1))).rejects.toMatchObject({ code: 'corrupt_log', message: expect.stringContaining('the record of LSN 2 fails its checksum') });
    await reopened.close();
  });

  test("a log written before segments (one commits.qlog) opens whole, keeps its commits, and is compacted away once a checkpoint covers it", async () => {
    const dir = mkdtempSync(join(root, 'legacy-'));
    // The exact bytes the previous FileCommitLog wrote: records back to back in commits.qlog.
    const rejected = { clientId: 'c', seq: 2, code: 'reducer_error', message: 'no' };
    writeFileSync(join(dir, 'commits.qlog'), Buffer.concat([record(1), record(2, { rejections: [rejected] }), record(3)].map((r) => encodeRecord(r))));

    const log = new FileCommitLog(dir);
    const summary = await log.open();
    expect(summary.last?.lsn).toBe(3);
    expect(summary.firstLsn).toBe(1);
    expect(summary.checkpoint).toBeNull();
    expect(summary.rejections).toEqual([rejected]);
    expect((await collectAll(log.readAfter(0)))[1]).toEqual(record(2, { rejections: [rejected] }));
    // It stays the segment being appended to until a checkpoint.
    await log.append([record(4)]);
    await log.writeCheckpoint(checkpoint(4, 5), checkpointPages(4, 5));
    await log.append([record(5)]);
    expect(readdirSync(join(dir, 'log'))).toEqual(['00000000000000000005.qlog']);
    expect(await log.compact(4)).toEqual({ commitsRemoved: 4, checkpointsRemoved: 0 });
    expect(existsSync(join(dir, 'commits.qlog'))).toBe(false);
    await log.close();

    const again = new FileCommitLog(dir);
    const after = await again.open();
    expect([after.firstLsn, after.last?.lsn, after.checkpoint?.lsn]).toEqual([5, 5, 4]);
    await again.close();
  });

  test('a checkpoint that fails its checksum fails the open with corrupt_log, and the file is left as it is', async () => {
    const dir = mkdtempSync(join(root, 'bad-checkpoint-'));
    const log = new FileCommitLog(dir);
    await log.open();
    await log.append([record(1), record(2)]);
    await log.writeCheckpoint(checkpoint(2, 3), checkpointPages(2, 3));
    await log.close();
    const file = join(dir, 'checkpoints', `${'2'.padStart(20, '0')}.qcp`);
    const bytes = readFileSync(file);
    // A flipped bit in the footer (just before the 12-byte trailer).
    bytes[bytes.length - 20]! ^= 0x01;
    writeFileSync(file, bytes);

    const again = new FileCommitLog(dir);
    await expect(again.open()).rejects.toMatchObject({ code: 'corrupt_log', message: expect.stringContaining('fails its footer checksum') });
    expect(readFileSync(file).equals(bytes)).toBe(true);
    await again.close();
  });

  test('a frame that fails its checksum fails the read with corrupt_log', async () => {
    const dir = mkdtempSync(join(root, 'bad-frame-'));
    const log = new FileCommitLog(dir);
    await log.open();
    await log.append([record(1)]);
    await log.writeCheckpoint(checkpoint(1, 3), checkpointPages(1, 3));
    const file = join(dir, 'checkpoints', `${'1'.padStart(20, '0')}.qcp`);
    const bytes = readFileSync(file);
    bytes[10]! ^= 0x01; // inside the first frame
    writeFileSync(file, bytes);
    await expect(collectAll(log.readCheckpoint({ lsn: 1, pageCount: 3 }))).rejects.toMatchObject({ code: 'corrupt_log', message: expect.stringContaining('the frame of pages 1 to 3 fails its checksum') });
    await log.close();
  });

  test('a new segment begun by an append that a crash cut short is dropped, and the log goes on from the segment before', async () => {
    const dir = mkdtempSync(join(root, 'torn-segment-'));
    const log = new FileCommitLog(dir);
    await log.open();
    await log.append([record(1), record(2)]);
    await log.writeCheckpoint(checkpoint(2, 3), checkpointPages(2, 3));
    await log.append([record(3)]);
    await log.close();
    const segment = join(dir, 'log', '00000000000000000003.qlog');
    writeFileSync(segment, readFileSync(segment).subarray(0, 30));

    const again = new FileCommitLog(dir);
    const summary = await again.open();
    expect(summary.last?.lsn).toBe(2);
    expect(existsSync(segment)).toBe(false);
    await again.append([record(3)]);
    await again.close();
    const last = new FileCommitLog(dir);
    expect((await last.open()).last?.lsn).toBe(3);
    await last.close();
  });
});

async function collectAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
