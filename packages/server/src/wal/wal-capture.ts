import { closeSync, fstatSync, openSync } from 'node:fs';
import { QuireError } from '@quire/core';
import { readFully, releaseDbFile } from './page-file.js';
import { WAL_FRAME_HEADER, WAL_HEADER, type WalChecksum, type WalFrameHeader, type WalHeader, checkFrame, frameSizeBytes, parseWalHeader } from './wal-format.js';

export interface WalPosition {
  salt1: number;
  salt2: number;
  /** Byte offset just past the last consumed commit frame. */
  offset: number;
}

export interface CapturedCommit {
  /** Database size in pages after this commit. */
  pageCount: number;
  /** Page number -> latest image of that page in this commit (only pages <= pageCount). */
  pages: Map<number, Uint8Array>;
  /** Position right after this commit's commit frame. */
  end: WalPosition;
}

/** Where a scan of one WAL generation stands: the next frame's offset and the checksum chain up to it. */
export interface WalCursor {
  offset: number;
  checksum: WalChecksum;
}

export interface WalFrame {
  header: WalFrameHeader;
  /** A view of the page image; copy it to keep it past the next read. */
  page: Uint8Array;
  /** The cursor just past this frame. */
  next: WalCursor;
}

/** Reads the WAL header through `fd`; null when there is no valid one. */
export function readWalHeader(fd: number): WalHeader | null {
  const bytes = new Uint8Array(WAL_HEADER.sizeBytes);
  return readFully(fd, bytes, 0) === bytes.length ? parseWalHeader(bytes) : null;
}

/** The cursor at the first frame of the generation `header` starts. */
export function walStart(header: WalHeader): WalCursor {
  return { offset: WAL_HEADER.sizeBytes, checksum: header.checksum };
}

/** Where `walFrames` reads frames into: a buffer of at least `bytes` (each call may return the same one). */
export type ReadBuffer = (bytes: number) => Uint8Array;

const freshBuffer: ReadBuffer = (bytes) => new Uint8Array(bytes);

/**
 * Yields the valid frames from `from` on, stopping at the first invalid or
 * incomplete one. `fileBytes` is the file's size if the caller has it;
 * `buffer` may reuse memory, and then a frame's page is valid only until
 * the next frame is read.
 */
export function* walFrames(fd: number, header: WalHeader, from: WalCursor, fileBytes = fstatSync(fd).size, buffer: ReadBuffer = freshBuffer): Generator<WalFrame> {
  const frameBytes = frameSizeBytes(header.pageSizeBytes);
  let cursor = from;
  // Start small and grow: after a restart, stale frames follow the live ones
  // and would otherwise be read in bulk on every poll only to be rejected.
  let batch = 4;
  while (cursor.offset + frameBytes <= fileBytes) {
    const count = Math.min(batch, Math.floor((fileBytes - cursor.offset) / frameBytes));
    const chunk = buffer(count * frameBytes).subarray(0, count * frameBytes);
    const complete = Math.floor(readFully(fd, chunk, cursor.offset) / frameBytes);
    for (let i = 0; i < complete; i++) {
      const frame = chunk.subarray(i * frameBytes, (i + 1) * frameBytes);
      const valid = checkFrame(header, cursor.checksum, frame);
      if (!valid) return;
      cursor = { offset: cursor.offset + frameBytes, checksum: valid.checksum };
      yield { header: valid.header, page: frame.subarray(WAL_FRAME_HEADER.sizeBytes), next: cursor };
    }
    if (complete < count) return;
    batch = Math.min(batch * 2, 256);
  }
}

/** The commit frame last consumed, to recognise the copies SQLite pads a commit with. */
interface LastCommitFrame {
  pageNumber: number;
  dbSizePages: number;
  page: Uint8Array;
  /** Padding never crosses a 64 KiB boundary (the largest sector SQLite pads to). */
  paddingLimit: number;
}

const MAX_SECTOR_BYTES = 65536;

// One read buffer for every capture in the process: a poll reads its frames
// synchronously and copies the pages it keeps, and allocating (then
// collecting) the buffer on every poll cost more than the read.
let shared = new Uint8Array(0);
const sharedBuffer: ReadBuffer = (bytes) => {
  if (shared.length < bytes) shared = new Uint8Array(bytes);
  return shared;
};

/**
 * Captures committed pages by reading the WAL file directly, incrementally.
 * Poll after every commit and always before a checkpoint or closing the
 * database: the next writer after a checkpoint overwrites the log from the
 * start, and frames not read by then are gone.
 */
export class WalCapture {
  private readonly pageSizeBytes: number | undefined;
  /** The log generation being read, identified by its salts. */
  private generation: WalHeader | null = null;
  private cursor: WalCursor | null = null;
  private lastCommitFrame: LastCommitFrame | null = null;
  private last: WalPosition = { salt1: 0, salt2: 0, offset: 0 };
  /** The WAL file's descriptor, kept between polls (see `open`). */
  private fd: number | undefined;
  private closed = false;

  constructor(
    private readonly walPath: string,
    options: { pageSize?: number } = {},
  ) {
    this.pageSizeBytes = options.pageSize;
  }

  /** Reads every complete commit appended since the last poll, in order. Handles WAL restarts and truncation. Never returns frames of an uncommitted transaction. */
  poll(): CapturedCommit[] {
    if (this.closed) throw new QuireError('internal', `WAL capture of ${this.walPath} is closed`);
    const file = this.open();
    return file ? this.read(file.fd, file.size) : [];
  }

  /** Position after the last commit returned by poll(); all zeros before the first. */
  position(): WalPosition {
    return { ...this.last };
  }

  close(): void {
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    // The volume closes its capture after its database, so the db file's handle can go now.
    if (this.walPath.endsWith('-wal')) releaseDbFile(this.walPath.slice(0, -'-wal'.length));
  }

  /**
   * The WAL's descriptor and size, or undefined while there is no WAL file.
   * Kept open between polls (opening and closing it cost more than the read
   * of a small commit). SQLite deletes the file when its last connection
   * closes and creates a new one on the next write: a descriptor whose file
   * has no name left is of a log nobody writes, so it is reopened by path.
   * SQLite takes no POSIX locks on the WAL that closing it could release.
   */
  private open(): { fd: number; size: number } | undefined {
    if (this.fd !== undefined) {
      const { nlink, size } = fstatSync(this.fd);
      if (nlink > 0) return { fd: this.fd, size };
      closeSync(this.fd);
      this.fd = undefined;
    }
    try {
      this.fd = openSync(this.walPath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return { fd: this.fd, size: fstatSync(this.fd).size };
  }

  private read(fd: number, fileBytes: number): CapturedCommit[] {
    // A header that does not parse means an empty log (0 bytes after a TRUNCATE
    // checkpoint) or a restart being written; either way nothing is committed yet.
    const header = readWalHeader(fd);
    if (!header) return [];
    if (this.pageSizeBytes !== undefined && header.pageSizeBytes !== this.pageSizeBytes) {
      throw new QuireError('bad_page_size', `${this.walPath} has ${header.pageSizeBytes}-byte pages, expected ${this.pageSizeBytes}`);
    }
    if (!this.generation || !this.cursor || header.salt1 !== this.generation.salt1 || header.salt2 !== this.generation.salt2) {
      this.generation = header;
      this.cursor = walStart(header);
      this.lastCommitFrame = null;
    }
    const commits: CapturedCommit[] = [];
    let pending = new Map<number, Uint8Array>();
    for (const frame of walFrames(fd, header, this.cursor, fileBytes, sharedBuffer)) {
      const { pageNumber, dbSizePagesAfterCommit } = frame.header;
      if (dbSizePagesAfterCommit === 0) {
        // A copy: the read buffer is reused for the next frames.
        pending.set(pageNumber, new Uint8Array(frame.page));
        this.lastCommitFrame = null;
        continue;
      }
      const end: WalPosition = { salt1: header.salt1, salt2: header.salt2, offset: frame.next.offset };
      this.cursor = frame.next;
      this.last = end;
      if (pending.size === 0 && this.isPadding(frame)) {
        // synchronous=FULL without powersafe overwrite repeats the commit frame up to
        // a sector boundary; the copies are part of the commit already captured.
        const previous = commits.at(-1);
        if (previous) previous.end = end;
        continue;
      }
      const commitPage = new Uint8Array(frame.page);
      pending.set(pageNumber, commitPage);
      // Frames spilled earlier in a transaction that later shrank the database lie past its end.
      for (const pgno of pending.keys()) if (pgno > dbSizePagesAfterCommit) pending.delete(pgno);
      commits.push({ pageCount: dbSizePagesAfterCommit, pages: pending, end });
      this.lastCommitFrame = {
        pageNumber,
        dbSizePages: dbSizePagesAfterCommit,
        // Pages of a commit are never written to (remember them as images).
        page: commitPage,
        paddingLimit: Math.ceil(frame.next.offset / MAX_SECTOR_BYTES) * MAX_SECTOR_BYTES,
      };
      pending = new Map();
    }
    return commits;
  }

  private isPadding(frame: WalFrame): boolean {
    const last = this.lastCommitFrame;
    if (!last) return false;
    const start = frame.next.offset - frame.page.length - WAL_FRAME_HEADER.sizeBytes;
    return (
      start < last.paddingLimit &&
      frame.header.pageNumber === last.pageNumber &&
      frame.header.dbSizePagesAfterCommit === last.dbSizePages &&
      Buffer.compare(frame.page, last.page) === 0
    );
  }
}
