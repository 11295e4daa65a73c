import { mkdirSync, readSync } from 'node:fs';
import { type FileHandle, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { QuireError } from '@quire/core';
import type { PageImage } from '@quire/core/internal';
import { type Checkpoint, type CheckpointInfo, type CommitLog, type CommitLogSummary, type CommitRecord, RECENT_COMMITS } from './commit-log.js';
import { RECORD, decodeRecordBody, encodeRecord } from './commit-record-codec.js';
import { type ByteSource, encodeCheckpoint, readCheckpointFooter, readCheckpointPages } from './checkpoint-codec.js';

/** The one file of a log written before segments: the segment that starts at LSN 1. */
export const LEGACY_FILE = 'commits.qlog';
export const SEGMENTS_DIR = 'log';
export const CHECKPOINTS_DIR = 'checkpoints';

export interface FileCommitLogOptions {
  /** Start a new segment once the current one is this big. Default 16 MiB. */
  maxSegmentBytes?: number;
  /** Never write: no torn tail is cut, no folder made (for `quire inspect` next to a live server). */
  readOnly?: boolean;
}

interface Segment {
  firstLsn: number;
  path: string;
  /** Byte offset of each record, by `lsn - firstLsn`; undefined until scanned. */
  offsets: number[] | undefined;
  bytes: number;
}

/** What `open` read, for tests and `quire inspect`: it grows with the window kept, never with history. */
export interface OpenCost {
  bytesRead: number;
  recordsRead: number;
}

const lsnName = (lsn: number) => String(lsn).padStart(20, '0');

/**
 * The default commit log: local files in the document's folder.
 *
 * - `log/<first LSN>.qlog`: segments, append-only files of checksummed
 *   records, each append fsynced before it resolves. A new segment begins
 *   after each checkpoint and when one grows past `maxSegmentBytes`. The
 *   `commits.qlog` of older versions is the segment that starts at LSN 1.
 * - `checkpoints/<LSN>.qcp`: the whole document at an LSN (checkpoint-codec),
 *   written to a `.tmp` name and renamed, so a torn one is never seen.
 *
 * `open` reads the newest checkpoint's footer and the segments from the one
 * holding the commit after it; compaction removes whole segments. A record
 * torn by a crash fails its checksum and is cut off when the log is next
 * opened; one that passes its checksum but does not decode is `corrupt_log`.
 */
export class FileCommitLog implements CommitLog {
  private file: FileHandle | undefined;
  private segments: Segment[] = [];
  private lastLsn = 0;
  private checkpoint: Checkpoint | null = null;
  /** A checkpoint was written since the current segment began: the next append starts a new one. */
  private roll = false;
  private opened = false;
  readonly openCost: OpenCost = { bytesRead: 0, recordsRead: 0 };

  constructor(
    private readonly dir: string,
    private readonly options: FileCommitLogOptions = {},
  ) {}

  async open(): Promise<CommitLogSummary> {
    if (!this.options.readOnly) {
      mkdirSync(join(this.dir, SEGMENTS_DIR), { recursive: true });
      mkdirSync(join(this.dir, CHECKPOINTS_DIR), { recursive: true });
    }
    const newest = (await this.listCheckpoints(!this.options.readOnly)).at(-1);
    this.checkpoint = newest === undefined ? null : (await readCheckpointFooter(await this.checkpointSource(newest, this.openCost), this.checkpointPath(newest))).checkpoint;
    this.segments = await this.listSegments();

    const base = this.checkpoint?.lsn ?? 0;
    const summary: CommitLogSummary = { last: null, checkpoint: this.checkpoint, firstLsn: base + 1, rejections: [], recent: [] };
    this.lastLsn = base;
    // Segments before the one holding the commit after the checkpoint are not read.
    let from = 0;
    while (from + 1 < this.segments.length && this.segments[from + 1]!.firstLsn <= base + 1) from++;
    const first = this.segments[from];
    if (first && first.firstLsn > base + 1) {
      throw new QuireError('corrupt_log', `commit log in ${this.dir}: its segments start at LSN ${first.firstLsn} but its newest checkpoint is at LSN ${base}, so commits ${base + 1} to ${first.firstLsn - 1} are missing — restore the document from a backup`);
    }
    const each = (record: Omit<CommitRecord, 'pages'>, pgnos: number[]) => {
      summary.last = record;
      if (record.lsn <= base) return;
      summary.rejections.push(...record.rejections);
      summary.recent.push({ lsn: record.lsn, pgnos });
      if (summary.recent.length > RECENT_COMMITS) summary.recent.shift();
    };
    for (let i = from; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const previous = this.segments[i - 1];
      if (i > from && previous && segment.firstLsn !== previous.firstLsn + previous.offsets!.length) {
        throw new QuireError('corrupt_log', `commit log ${segment.path} starts at LSN ${segment.firstLsn} but the segment before it ends at ${previous.firstLsn + previous.offsets!.length - 1} — restore the document from a backup`);
      }
      await this.scan(segment, i === this.segments.length - 1, each, base);
    }
    // A segment begun by an append that a crash cut short holds nothing: the newest commit is in the one before.
    while (this.segments.length > 0 && this.segments.at(-1)!.offsets?.length === 0) {
      const empty = this.segments.pop()!;
      if (!this.options.readOnly) await rm(empty.path, { force: true });
      const before = this.segments.at(-1);
      if (before && !before.offsets) await this.scan(before, true, each, base);
    }
    const active = this.segments.at(-1);
    this.lastLsn = active ? active.firstLsn + active.offsets!.length - 1 : base;
    // The checkpoint covers commits of the segment being appended to: the next append begins a new one, so compaction can remove this one whole.
    this.roll = active !== undefined && this.checkpoint !== null && this.checkpoint.lsn >= active.firstLsn;
    summary.firstLsn = this.segments[0]?.firstLsn ?? this.lastLsn + 1;
    if (active && !this.options.readOnly) this.file = await open(active.path, 'r+');
    this.opened = true;
    return summary;
  }

  async append(records: readonly CommitRecord[]): Promise<void> {
    this.requireOpen();
    if (this.options.readOnly) throw new QuireError('log_closed', `commit log in ${this.dir} was opened read-only`);
    if (records.length === 0) return;
    let expected = this.lastLsn + 1;
    for (const record of records) {
      if (record.lsn !== expected) throw new QuireError('lsn_gap', `commit LSN ${record.lsn} does not follow ${expected - 1}`);
      expected++;
    }
    const encoded = records.map(encodeRecord);
    const total = encoded.reduce((n, b) => n + b.length, 0);
    let segment = this.segments.at(-1);
    if (!segment || !this.file || (segment.bytes > 0 && (this.roll || segment.bytes + total > (this.options.maxSegmentBytes ?? 16 * 1024 * 1024)))) {
      segment = await this.startSegment(records[0]!.lsn);
    }
    const file = this.file!;
    let at = 0;
    const offsets: number[] = [];
    for (const bytes of encoded) {
      offsets.push(segment.bytes + at);
      at += bytes.length;
    }
    // One write per group; a lone record (the usual group) goes without a copy.
    const buffer = encoded.length === 1 ? encoded[0]! : Buffer.concat(encoded, total);
    await file.write(buffer, 0, total, segment.bytes);
    await file.datasync();
    segment.bytes += total;
    segment.offsets!.push(...offsets);
    this.lastLsn = records[records.length - 1]!.lsn;
  }

  async *readAfter(after: number): AsyncIterable<CommitRecord> {
    this.requireOpen();
    const firstLsn = this.segments[0]?.firstLsn ?? this.lastLsn + 1;
    if (after < firstLsn - 1) {
      throw new QuireError('log_compacted', `commit log in ${this.dir} holds commits from LSN ${firstLsn}; commits after ${after} were compacted away — start from the newest checkpoint (LSN ${this.checkpoint?.lsn ?? 'none'}) instead`);
    }
    const upTo = this.lastLsn;
    for (const segment of [...this.segments]) {
      const offsets = segment.offsets ?? (await this.scan(segment, false, () => {}, this.checkpoint?.lsn));
      const end = segment.firstLsn + offsets.length - 1;
      if (end <= after) continue;
      let handle: FileHandle;
      try {
        handle = await open(segment.path, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new QuireError('log_compacted', `commit log segment ${segment.path} was compacted away while being read — read again from the newest checkpoint`);
        throw error;
      }
      try {
        for (let lsn = Math.max(after + 1, segment.firstLsn); lsn <= Math.min(end, upTo); lsn++) {
          const offset = offsets[lsn - segment.firstLsn]!;
          const header = Buffer.alloc(RECORD.headerBytes);
          await handle.read(header, 0, header.length, offset);
          const rest = Buffer.alloc(header.readUInt32BE(4) + RECORD.trailerBytes);
          await handle.read(rest, 0, rest.length, offset + RECORD.headerBytes);
          const body = rest.subarray(0, rest.length - RECORD.trailerBytes);
          if (rest.readUInt32BE(body.length) !== crc32(body)) {
            throw new QuireError('corrupt_log', `commit log ${segment.path}: the record of LSN ${lsn} fails its checksum — restore the document from a backup`);
          }
          const { pgnos: _pgnos, ...record } = decodeRecordBody(body, { pages: true });
          yield record;
        }
      } finally {
        await handle.close();
      }
    }
  }

  async writeCheckpoint(checkpoint: Checkpoint, pages: Iterable<PageImage> | AsyncIterable<PageImage>): Promise<void> {
    this.requireOpen();
    if (checkpoint.lsn > this.lastLsn) throw new QuireError('internal', `a checkpoint at LSN ${checkpoint.lsn} is ahead of the log's last commit ${this.lastLsn}`);
    const path = this.checkpointPath(checkpoint.lsn);
    const temp = `${path}.tmp`;
    const handle = await open(temp, 'w');
    try {
      let at = 0;
      for await (const chunk of encodeCheckpoint(checkpoint, pages)) {
        await handle.write(chunk, 0, chunk.length, at);
        at += chunk.length;
      }
      await handle.datasync();
    } catch (error) {
      await handle.close();
      await rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    // Only a whole, synced checkpoint gets its real name.
    await rename(temp, path);
    await syncDir(join(this.dir, CHECKPOINTS_DIR));
    if (!this.checkpoint || checkpoint.lsn >= this.checkpoint.lsn) {
      this.checkpoint = checkpoint;
      this.roll = true;
    }
  }

  async *readCheckpoint(info: CheckpointInfo): AsyncIterable<PageImage> {
    const path = this.checkpointPath(info.lsn);
    const source = await this.checkpointSource(info.lsn);
    const footer = await readCheckpointFooter(source, path);
    yield* readCheckpointPages(source, footer, path);
  }

  async compact(keepAfterLsn: number): Promise<{ commitsRemoved: number; checkpointsRemoved: number }> {
    this.requireOpen();
    if (this.options.readOnly) throw new QuireError('log_closed', `commit log in ${this.dir} was opened read-only`);
    if (!this.checkpoint) return { commitsRemoved: 0, checkpointsRemoved: 0 };
    const cutoff = Math.min(keepAfterLsn, this.checkpoint.lsn);
    let commitsRemoved = 0;
    // Whole segments only, never the one being appended to (it holds the newest commit).
    while (this.segments.length > 1 && this.segments[1]!.firstLsn - 1 <= cutoff) {
      const segment = this.segments.shift()!;
      commitsRemoved += this.segments[0]!.firstLsn - segment.firstLsn;
      await rm(segment.path, { force: true });
    }
    let checkpointsRemoved = 0;
    for (const lsn of await this.listCheckpoints()) {
      if (lsn >= this.checkpoint.lsn) continue;
      await rm(this.checkpointPath(lsn), { force: true });
      checkpointsRemoved++;
    }
    if (commitsRemoved > 0) await syncDir(join(this.dir, SEGMENTS_DIR)).then(() => syncDir(this.dir));
    if (checkpointsRemoved > 0) await syncDir(join(this.dir, CHECKPOINTS_DIR));
    return { commitsRemoved, checkpointsRemoved };
  }

  /** Bytes the log holds on disk now: its segments (the commits) and checkpoints. */
  async storedBytes(): Promise<{ commits: number; checkpoints: number }> {
    let commits = 0;
    for (const s of this.segments) commits += s.bytes || (await stat(s.path)).size;
    let checkpoints = 0;
    for (const lsn of await this.listCheckpoints()) checkpoints += (await stat(this.checkpointPath(lsn))).size;
    return { commits, checkpoints };
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
    this.opened = false;
  }

  private async startSegment(firstLsn: number): Promise<Segment> {
    await this.file?.close();
    const path = join(this.dir, SEGMENTS_DIR, `${lsnName(firstLsn)}.qlog`);
    this.file = await open(path, 'wx+');
    await syncDir(join(this.dir, SEGMENTS_DIR));
    const segment: Segment = { firstLsn, path, offsets: [], bytes: 0 };
    this.segments.push(segment);
    this.roll = false;
    return segment;
  }

  /**
   * Reads a segment's records in order, checking each, and sets its offsets.
   * The last segment may end in a torn record from a crash mid-append: it
   * is cut off (it was never acknowledged). Anywhere else a bad record is
   * corruption.
   *
   * Records before `coveredLsn` (a checkpoint's LSN) are stepped over by
   * their headers alone: they were durable before that checkpoint was
   * written, so they cannot be torn, and `readAfter` checks each one it
   * reads. Opening a segment that holds a checkpoint thus reads a few bytes
   * per commit before it, not every page.
   */
  private async scan(segment: Segment, last: boolean, each: (record: Omit<CommitRecord, 'pages'>, pgnos: number[]) => void, coveredLsn = 0): Promise<number[]> {
    let handle: FileHandle;
    try {
      handle = await open(segment.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new QuireError('log_compacted', `commit log segment ${segment.path} was compacted away — read again from the newest checkpoint`);
      throw error;
    }
    let start: number;
    let offsets: number[];
    let bytes: Buffer;
    try {
      const size = (await handle.stat()).size;
      ({ start, offsets } = this.stepOver(handle.fd, size, coveredLsn - segment.firstLsn));
      bytes = Buffer.allocUnsafe(size - start);
      let read = 0;
      while (read < bytes.length) {
        const { bytesRead } = await handle.read(bytes, read, bytes.length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      bytes = bytes.subarray(0, read);
    } finally {
      await handle.close();
    }
    this.openCost.bytesRead += bytes.length;
    let at = 0;
    let lsn = segment.firstLsn + offsets.length - 1;
    while (at + RECORD.headerBytes <= bytes.length) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + at);
      if (view.getUint32(0) !== RECORD.magic) break;
      const end = at + RECORD.headerBytes + view.getUint32(4) + RECORD.trailerBytes;
      if (end > bytes.length) break;
      const body = bytes.subarray(at + RECORD.headerBytes, end - RECORD.trailerBytes);
      if (bytes.readUInt32BE(end - 4) !== crc32(body)) break;
      let decoded: CommitRecord & { pgnos: number[] };
      try {
        decoded = decodeRecordBody(body, { pages: false });
      } catch (cause) {
        // A crash tears bytes, it does not write a matching CRC: this record
        // was written whole, so cutting it (and all after it) would drop
        // durable commits. Leave the file for the operator.
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new QuireError(
          'corrupt_log',
          `commit log ${segment.path}: the record at byte ${start + at} (after LSN ${lsn}) passes its checksum but does not decode (${reason}); the file was left as it is — restore the document from a backup, or truncate the file to ${start + at} bytes to keep LSN ${segment.firstLsn} to ${lsn} and lose every later commit`,
          { cause },
        );
      }
      if (decoded.lsn !== lsn + 1) {
        throw new QuireError('corrupt_log', `commit log ${segment.path} jumps from LSN ${lsn} to ${decoded.lsn} — restore the document from a backup`);
      }
      const { pages: _pages, pgnos, ...record } = decoded;
      this.openCost.recordsRead++;
      each(record, pgnos);
      offsets.push(start + at);
      lsn = decoded.lsn;
      at = end;
    }
    if (at < bytes.length) {
      if (!last) {
        throw new QuireError('corrupt_log', `commit log ${segment.path}: the record at byte ${start + at} (after LSN ${lsn}) fails its checksum, and later segments follow it — restore the document from a backup`);
      }
      if (!this.options.readOnly) {
        // A torn tail from a crash mid-append: it was never acknowledged.
        const file = await open(segment.path, 'r+');
        await file.truncate(start + at);
        await file.datasync();
        await file.close();
      }
    }
    segment.offsets = offsets;
    segment.bytes = start + at;
    if (last) this.lastLsn = lsn;
    return offsets;
  }

  /**
   * Steps over the segment's first `count` records by their headers (one
   * small read each) and returns where the rest begins. Anything odd (a
   * bad magic, a length past the end) and it steps over nothing: the
   * full scan decides.
   */
  private stepOver(fd: number, size: number, count: number): { start: number; offsets: number[] } {
    const offsets: number[] = [];
    const header = Buffer.alloc(RECORD.headerBytes);
    let at = 0;
    while (offsets.length < count) {
      if (readSync(fd, header, 0, header.length, at) !== header.length || header.readUInt32BE(0) !== RECORD.magic) return { start: 0, offsets: [] };
      const end = at + RECORD.headerBytes + header.readUInt32BE(4) + RECORD.trailerBytes;
      if (end > size) return { start: 0, offsets: [] };
      this.openCost.bytesRead += header.length;
      offsets.push(at);
      at = end;
    }
    return { start: at, offsets };
  }

  private async listSegments(): Promise<Segment[]> {
    const segments: Segment[] = [];
    const legacy = join(this.dir, LEGACY_FILE);
    if ((await stat(legacy).catch(() => undefined))?.isFile()) segments.push({ firstLsn: 1, path: legacy, offsets: undefined, bytes: 0 });
    for (const name of await readdir(join(this.dir, SEGMENTS_DIR)).catch(() => [] as string[])) {
      const match = /^(\d{20})\.qlog$/.exec(name);
      if (match) segments.push({ firstLsn: Number(match[1]), path: join(this.dir, SEGMENTS_DIR, name), offsets: undefined, bytes: 0 });
    }
    return segments.sort((a, b) => a.firstLsn - b.firstLsn);
  }

  /** LSNs of the checkpoints on disk, ascending; `removeTemps` removes the temp files of checkpoints a crash cut short. */
  private async listCheckpoints(removeTemps = false): Promise<number[]> {
    const lsns: number[] = [];
    for (const name of await readdir(join(this.dir, CHECKPOINTS_DIR)).catch(() => [] as string[])) {
      const match = /^(\d{20})\.qcp$/.exec(name);
      if (match) lsns.push(Number(match[1]));
      else if (name.endsWith('.qcp.tmp') && removeTemps) await rm(join(this.dir, CHECKPOINTS_DIR, name), { force: true });
    }
    return lsns.sort((a, b) => a - b);
  }

  private checkpointPath(lsn: number): string {
    return join(this.dir, CHECKPOINTS_DIR, `${lsnName(lsn)}.qcp`);
  }

  private async checkpointSource(lsn: number, cost?: OpenCost): Promise<ByteSource> {
    const path = this.checkpointPath(lsn);
    const { size } = await stat(path);
    return {
      size,
      read: async (offset, length) => {
        const handle = await open(path, 'r');
        try {
          const out = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
          await handle.read(out, 0, out.length, offset);
          if (cost) cost.bytesRead += out.length;
          return out;
        } finally {
          await handle.close();
        }
      },
    };
  }

  private requireOpen(): void {
    if (!this.opened) throw new QuireError('log_closed', 'the commit log is not open — call open() first');
  }
}

/** Makes a rename or a new file in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
