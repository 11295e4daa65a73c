import { crc32 } from 'node:zlib';
import { QuireError } from '@quire/core';
import type { CommitRecord } from '../commit-log.js';
import { RECORD, decodeRecordBody, encodeRecord } from '../commit-record-codec.js';

/** A decoded commit, with the page numbers it changed even when its page images were skipped. */
export type DecodedCommit = CommitRecord & { pgnos: number[] };

/**
 * One commit object: the records of one `append` call, back to back, each
 * in the commit-record format (header, body, CRC) of docs/COMMIT_LOG.md.
 */
export function encodeCommitObject(records: readonly CommitRecord[]): Uint8Array {
  const encoded = records.map(encodeRecord);
  const out = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const bytes of encoded) (out.set(bytes, at), (at += bytes.length));
  return out;
}

/**
 * Decodes a commit object and checks it is whole and where it belongs: every
 * CRC, and LSNs that start at `firstLsn` (its key) and follow each other.
 * Anything else is `corrupt_log`: S3 writes objects whole, so a bad one was
 * damaged or put there by something other than Quire.
 */
export function decodeCommitObject(bytes: Uint8Array, key: string, firstLsn: number, options: { pages: boolean }): DecodedCommit[] {
  const corrupt = (why: string, cause?: unknown) =>
    new QuireError('corrupt_log', `commit object "${key}" ${why} — it was not written by Quire or was damaged; restore it from a backup or versioned copy (moving it away loses the commits it holds and every later one)`, cause === undefined ? {} : { cause });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: DecodedCommit[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + RECORD.headerBytes > bytes.length || view.getUint32(at) !== RECORD.magic) throw corrupt(`has no commit record at byte ${at}`);
    const end = at + RECORD.headerBytes + view.getUint32(at + 4) + RECORD.trailerBytes;
    if (end > bytes.length) throw corrupt(`ends inside the record at byte ${at}`);
    const body = bytes.subarray(at + RECORD.headerBytes, end - RECORD.trailerBytes);
    if (view.getUint32(end - RECORD.trailerBytes) !== crc32(body)) throw corrupt(`fails its checksum at byte ${at}`);
    let record: DecodedCommit;
    try {
      record = decodeRecordBody(body, options);
    } catch (cause) {
      throw corrupt(`has a record at byte ${at} that does not decode (${cause instanceof Error ? cause.message : String(cause)})`, cause);
    }
    const expected = firstLsn + records.length;
    if (record.lsn !== expected) throw corrupt(`holds LSN ${record.lsn} where LSN ${expected} belongs`);
    records.push(record);
    at = end;
  }
  if (records.length === 0) throw corrupt('is empty');
  return records;
}
