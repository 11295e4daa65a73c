import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { record, runCommitLogContract } from './commit-log.contract.js';
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
  const file = join(dir, 'commits.qlog');
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
  const file = join(dir, 'commits.qlog');
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
