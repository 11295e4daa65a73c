import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { QuireError } from '@quire/core';
import { type CommitLog, type CommitLogSummary, type CommitRecord, RECENT_COMMITS } from './commit-log.js';
import { RECORD, decodeRecordBody, encodeRecord } from './commit-record-codec.js';
import { crc32 } from 'node:zlib';

const FILE_NAME = 'commits.qlog';

/**
 * The default commit log: one append-only file per document, each record
 * checksummed, each append fsynced before it resolves. A record torn by a
 * crash fails its checksum and is cut off when the log is next opened; a
 * record that passes its checksum but does not decode is `corrupt_log`.
 */
export class FileCommitLog implements CommitLog {
  private file: FileHandle | undefined;
  private size = 0;
  private lastLsn = 0;
  /** Byte offset of each record, by LSN - 1. */
  private offsets: number[] = [];

  constructor(private readonly dir: string) {}

  async open(): Promise<CommitLogSummary> {
    mkdirSync(this.dir, { recursive: true });
    this.file = await open(join(this.dir, FILE_NAME), 'a+');
    const bytes = await this.file.readFile();
    const summary: CommitLogSummary = { last: null, rejections: [], recent: [] };
    let at = 0;
    while (at + RECORD.headerBytes <= bytes.length) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + at);
      if (view.getUint32(0) !== RECORD.magic) break;
      const bodyLength = view.getUint32(4);
      const end = at + RECORD.headerBytes + bodyLength + RECORD.trailerBytes;
      if (end > bytes.length) break;
      const body = bytes.subarray(at + RECORD.headerBytes, end - RECORD.trailerBytes);
      if (new DataView(bytes.buffer, bytes.byteOffset + end - 4).getUint32(0) !== crc32(body)) break;
      let record: CommitRecord & { pgnos: number[] };
      try {
        record = decodeRecordBody(body, { pages: false });
      } catch (cause) {
        // A crash tears bytes, it does not write a matching CRC: this record
        // was written whole, so cutting it (and all after it) would drop
        // durable commits. Leave the file for the operator.
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new QuireError(
          'corrupt_log',
          `commit log ${join(this.dir, FILE_NAME)}: the record at byte ${at} (after LSN ${this.lastLsn}) passes its checksum but does not decode (${reason}); the file was left as it is — restore the document from a backup, or truncate the file to ${at} bytes to keep LSN 1 to ${this.lastLsn} and lose every later commit`,
          { cause },
        );
      }
      if (record.lsn !== this.lastLsn + 1) {
        throw new QuireError('corrupt_log', `commit log ${join(this.dir, FILE_NAME)} jumps from LSN ${this.lastLsn} to ${record.lsn} — restore the document from a backup`);
      }
      const { pages: _pages, pgnos, ...rest } = record;
      summary.last = rest;
      summary.rejections.push(...record.rejections);
      summary.recent.push({ lsn: record.lsn, pgnos });
      if (summary.recent.length > RECENT_COMMITS) summary.recent.shift();
      this.offsets.push(at);
      this.lastLsn = record.lsn;
      at = end;
    }
    if (at < bytes.length) {
      // A torn tail from a crash mid-append: it was never acknowledged.
      await this.file.truncate(at);
      await this.file.datasync();
    }
    this.size = at;
    return summary;
  }

  async append(records: readonly CommitRecord[]): Promise<void> {
    const file = this.requireOpen();
    if (records.length === 0) return;
    let expected = this.lastLsn + 1;
    for (const record of records) {
      if (record.lsn !== expected) throw new QuireError('lsn_gap', `commit LSN ${record.lsn} does not follow ${expected - 1}`);
      expected++;
    }
    const encoded = records.map(encodeRecord);
    const total = encoded.reduce((n, b) => n + b.length, 0);
    const buffer = Buffer.allocUnsafe(total);
    let at = 0;
    const offsets: number[] = [];
    for (const bytes of encoded) {
      offsets.push(this.size + at);
      buffer.set(bytes, at);
      at += bytes.length;
    }
    await file.write(buffer, 0, total, this.size);
    await file.datasync();
    this.size += total;
    this.offsets.push(...offsets);
    this.lastLsn = records[records.length - 1]!.lsn;
  }

  async *readAfter(after: number): AsyncIterable<CommitRecord> {
    const file = this.requireOpen();
    const upTo = this.lastLsn;
    for (let lsn = after + 1; lsn <= upTo; lsn++) {
      const offset = this.offsets[lsn - 1]!;
      const header = Buffer.alloc(RECORD.headerBytes);
      await file.read(header, 0, header.length, offset);
      const body = Buffer.alloc(header.readUInt32BE(4));
      await file.read(body, 0, body.length, offset + RECORD.headerBytes);
      const { pgnos: _pgnos, ...record } = decodeRecordBody(body, { pages: true });
      yield record;
    }
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }

  private requireOpen(): FileHandle {
    if (!this.file) throw new QuireError('log_closed', 'the commit log is not open — call open() first');
    return this.file;
  }
}
