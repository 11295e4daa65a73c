import { promisify } from 'node:util';
import { crc32, deflateRaw, inflateRaw } from 'node:zlib';
import { QuireError } from '@quire/core';
import { PAGE_SIZE, type PageImage } from '@quire/core/internal';
import type { Checkpoint, RejectionRecord } from './commit-log.js';
import { RECORD_LIMITS } from './commit-record-codec.js';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/**
 * Byte layout of a checkpoint (all integers big-endian; the table is in
 * docs/COMMIT_LOG.md): a header, frames of up to `framePages` pages each
 * compressed with raw deflate, a footer (the index of frames and the state),
 * and a fixed trailer that says where the footer is. A reader takes the
 * trailer, then the footer, then only the frames it wants, each with one
 * range read.
 */
export const CHECKPOINT = {
  magic: 0x51435031, // "QCP1"
  version: 1,
  headerBytes: 8, // magic u32, version u32
  trailerBytes: 12, // footerBytes u32, footer crc32 u32, magic u32
  framePages: 64,
  frameEntryBytes: 24, // firstPgno u32, pages u32, offset u64, bytes u32, crc32 u32
} as const;

/** One compressed frame: pages `firstPgno` to `firstPgno + pages - 1`, at `offset` in the checkpoint. */
export interface CheckpointFrame {
  firstPgno: number;
  pages: number;
  /** Byte offset of the compressed frame from the start of the checkpoint. */
  offset: number;
  /** Compressed length in bytes. */
  bytes: number;
  /** CRC-32 of the compressed bytes. */
  crc: number;
}

/** What the footer holds: the checkpoint without pages, and where each frame is. */
export interface CheckpointFooter {
  checkpoint: Checkpoint;
  frames: CheckpointFrame[];
}

/** Random access to a stored checkpoint: a file, or an object read with range GETs. */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset` (shorter only past the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a checkpoint as consecutive chunks to write (or upload) in order.
 * `pages` must be every page from 1 to `checkpoint.pageCount`, ascending.
 * Frames are compressed off the main thread (zlib's thread pool).
 */
export async function* encodeCheckpoint(checkpoint: Checkpoint, pages: Iterable<PageImage> | AsyncIterable<PageImage>): AsyncGenerator<Uint8Array> {
  const header = new Uint8Array(CHECKPOINT.headerBytes);
  new DataView(header.buffer).setUint32(0, CHECKPOINT.magic);
  new DataView(header.buffer).setUint32(4, CHECKPOINT.version);
  yield header;
  let offset: number = CHECKPOINT.headerBytes;
  const frames: CheckpointFrame[] = [];
  let batch: Uint8Array[] = [];
  let expected = 1;
  const flush = async (): Promise<Uint8Array> => {
    const raw = Buffer.concat(batch);
    const compressed = new Uint8Array(await deflate(raw));
    frames.push({ firstPgno: expected - batch.length, pages: batch.length, offset, bytes: compressed.length, crc: crc32(compressed) });
    offset += compressed.length;
    batch = [];
    return compressed;
  };
  for await (const page of pages) {
    if (page.pgno !== expected || page.data.length !== PAGE_SIZE) {
      throw new QuireError('internal', `checkpoint at LSN ${checkpoint.lsn}: expected page ${expected} of ${PAGE_SIZE} bytes, got page ${page.pgno} of ${page.data.length} — a bug in whatever supplied the pages, please report it`);
    }
    batch.push(page.data);
    expected++;
    if (batch.length === CHECKPOINT.framePages) yield await flush();
  }
  if (batch.length > 0) yield await flush();
  if (expected - 1 !== checkpoint.pageCount) {
    throw new QuireError('internal', `checkpoint at LSN ${checkpoint.lsn} has ${expected - 1} pages, not its page count ${checkpoint.pageCount} — a bug in whatever supplied the pages, please report it`);
  }
  const footer = encodeFooter(checkpoint, frames);
  yield footer;
  const trailer = new Uint8Array(CHECKPOINT.trailerBytes);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, footer.length);
  view.setUint32(4, crc32(footer));
  view.setUint32(8, CHECKPOINT.magic);
  yield trailer;
}

/** Reads and checks the header, trailer and footer (three small reads). Throws `corrupt_log` naming `where`. */
export async function readCheckpointFooter(source: ByteSource, where: string): Promise<CheckpointFooter> {
  const corrupt = (why: string, cause?: unknown) =>
    new QuireError('corrupt_log', `checkpoint ${where} ${why}; it was left as it is — restore the document from a backup (a log without this checkpoint cannot rebuild the document)`, cause === undefined ? undefined : { cause });
  if (source.size < CHECKPOINT.headerBytes + CHECKPOINT.trailerBytes) throw corrupt(`is ${source.size} bytes, too short`);
  const header = view(await source.read(0, CHECKPOINT.headerBytes));
  if (header.getUint32(0) !== CHECKPOINT.magic || header.getUint32(4) !== CHECKPOINT.version) throw corrupt('does not start with the QCP1 magic and version 1');
  const trailer = view(await source.read(source.size - CHECKPOINT.trailerBytes, CHECKPOINT.trailerBytes));
  const footerBytes = trailer.getUint32(0);
  if (trailer.getUint32(8) !== CHECKPOINT.magic || footerBytes > source.size - CHECKPOINT.headerBytes - CHECKPOINT.trailerBytes) throw corrupt('has no valid trailer (a torn write?)');
  const footer = await source.read(source.size - CHECKPOINT.trailerBytes - footerBytes, footerBytes);
  if (crc32(footer) !== trailer.getUint32(4)) throw corrupt('fails its footer checksum');
  try {
    return decodeFooter(footer);
  } catch (cause) {
    throw corrupt(`has a footer that passes its checksum but does not decode (${(cause as Error).message})`, cause);
  }
}

/** The pages of one frame, checked against its CRC. */
export async function readCheckpointFrame(source: ByteSource, frame: CheckpointFrame, where: string): Promise<PageImage[]> {
  const compressed = await source.read(frame.offset, frame.bytes);
  if (compressed.length !== frame.bytes || crc32(compressed) !== frame.crc) {
    throw new QuireError('corrupt_log', `checkpoint ${where}: the frame of pages ${frame.firstPgno} to ${frame.firstPgno + frame.pages - 1} fails its checksum; the file was left as it is — restore the document from a backup`);
  }
  const raw = await inflate(compressed);
  if (raw.length !== frame.pages * PAGE_SIZE) {
    throw new QuireError('corrupt_log', `checkpoint ${where}: the frame of pages from ${frame.firstPgno} holds ${raw.length} bytes, not ${frame.pages} pages — restore the document from a backup`);
  }
  return Array.from({ length: frame.pages }, (_, i) => ({ pgno: frame.firstPgno + i, data: new Uint8Array(raw.buffer.slice(raw.byteOffset + i * PAGE_SIZE, raw.byteOffset + (i + 1) * PAGE_SIZE)) }));
}

/** Every page of the checkpoint, ascending, one frame read at a time. */
export async function* readCheckpointPages(source: ByteSource, footer: CheckpointFooter, where: string): AsyncGenerator<PageImage> {
  for (const frame of footer.frames) yield* await readCheckpointFrame(source, frame, where);
}

/** The frame holding page `pgno`, or undefined past the end. */
export function frameOf(footer: CheckpointFooter, pgno: number): CheckpointFrame | undefined {
  return footer.frames[Math.floor((pgno - 1) / CHECKPOINT.framePages)];
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function encodeFooter(checkpoint: Checkpoint, frames: CheckpointFrame[]): Uint8Array {
  const out = new ByteWriter();
  const text = (value: string, lengthBytes: 2 | 4, limit: number, what: string) => {
    const bytes = encoder.encode(value);
    if (bytes.length > limit) throw new QuireError('log_field_too_large', `checkpoint at LSN ${checkpoint.lsn}: the ${what} is ${bytes.length} bytes, over the limit of ${limit} — nothing was written; please report it`);
    if (lengthBytes === 2) out.u16(bytes.length);
    else out.u32(bytes.length);
    out.bytes(bytes);
  };

  out.u64(checkpoint.lsn);
  out.u32(checkpoint.pageCount);
  out.u32(CHECKPOINT.framePages);
  out.u32(frames.length);
  for (const f of frames) (out.u32(f.firstPgno), out.u32(f.pages), out.u64(f.offset), out.u32(f.bytes), out.u32(f.crc));
  out.u32(checkpoint.rejections.length);
  for (const r of checkpoint.rejections) {
    text(r.clientId, 2, RECORD_LIMITS.clientIdBytes, 'client id of a rejection');
    out.u64(r.seq);
    text(r.code, 2, RECORD_LIMITS.rejectionCodeBytes, 'rejection code');
    text(r.message, 4, RECORD_LIMITS.rejectionMessageBytes, 'rejection message');
  }
  out.u32(checkpoint.unknownOutcomes.length);
  for (const u of checkpoint.unknownOutcomes) (text(u.clientId, 2, RECORD_LIMITS.clientIdBytes, 'client id of an unknown outcome'), out.u64(u.upToSeq));
  out.u32(checkpoint.recent.length);
  for (const r of checkpoint.recent) {
    out.u64(r.lsn);
    out.u32(r.pgnos.length);
    for (const pgno of r.pgnos) out.u32(pgno);
  }
  return out.finish();
}

/**
 * Big-endian integers and bytes into one growing buffer. The footer holds a
 * few thousand integers (the recent commits' page numbers): one small array
 * each cost more than the rest of a checkpoint of a small document.
 */
class ByteWriter {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  private at = 0;

  u16(v: number): void {
    this.room(2).setUint16(this.at, v);
    this.at += 2;
  }

  u32(v: number): void {
    this.room(4).setUint32(this.at, v);
    this.at += 4;
  }

  u64(v: number): void {
    this.room(8).setBigUint64(this.at, BigInt(v));
    this.at += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buffer.set(b, this.at);
    this.at += b.length;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.at);
  }

  private room(n: number): DataView {
    if (this.at + n > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.at + n));
      grown.set(this.buffer.subarray(0, this.at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    return this.view;
  }
}

function decodeFooter(bytes: Uint8Array): CheckpointFooter {
  const d = view(bytes);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new RangeError(`footer truncated at byte ${at}`);
  };
  const u16 = () => (need(2), (at += 2), d.getUint16(at - 2));
  const u32 = () => (need(4), (at += 4), d.getUint32(at - 4));
  const u64 = () => (need(8), (at += 8), Number(d.getBigUint64(at - 8)));
  const text = (n: number) => (need(n), (at += n), decoder.decode(bytes.subarray(at - n, at)));
  const count = (each: number) => {
    const n = u32();
    need(n * each);
    return n;
  };

  const lsn = u64();
  const pageCount = u32();
  const framePages = u32();
  if (framePages !== CHECKPOINT.framePages) throw new RangeError(`frames of ${framePages} pages, expected ${CHECKPOINT.framePages}`);
  const frames = Array.from({ length: count(CHECKPOINT.frameEntryBytes) }, () => ({ firstPgno: u32(), pages: u32(), offset: u64(), bytes: u32(), crc: u32() }));
  let next = 1;
  for (const f of frames) {
    if (f.firstPgno !== next || f.pages < 1 || f.pages > framePages) throw new RangeError(`frame index does not cover pages in order at page ${next}`);
    next += f.pages;
  }
  if (next - 1 !== pageCount) throw new RangeError(`frames hold ${next - 1} pages, not ${pageCount}`);
  const rejections: RejectionRecord[] = Array.from({ length: count(2 + 8 + 2 + 4) }, () => ({ clientId: text(u16()), seq: u64(), code: text(u16()), message: text(u32()) }));
  const unknownOutcomes = Array.from({ length: count(2 + 8) }, () => ({ clientId: text(u16()), upToSeq: u64() }));
  const recent = Array.from({ length: count(8 + 4) }, () => {
    const entryLsn = u64();
    return { lsn: entryLsn, pgnos: Array.from({ length: count(4) }, () => u32()) };
  });
  if (at !== bytes.length) throw new RangeError(`footer has ${bytes.length - at} trailing bytes`);
  return { checkpoint: { lsn, pageCount, rejections, unknownOutcomes, recent }, frames };
}
