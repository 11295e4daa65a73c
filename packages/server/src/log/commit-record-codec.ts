import { crc32 } from 'node:zlib';
import { QuireError } from '@quire/core';
import { PAGE_SIZE } from '@quire/core/internal';
import { type CommitRecord, MAX_REJECTION_CODE, MAX_REJECTION_MESSAGE, type RejectionRecord } from './commit-log.js';

/**
 * Byte layout of one record in a commit log file (all integers big-endian).
 * See docs/COMMIT_LOG.md for the table.
 */
export const RECORD = {
  magic: 0x51434c31, // "QCL1"
  headerBytes: 8, // magic u32, body length u32
  trailerBytes: 4, // crc32 of the body
} as const;

/**
 * The most the encoder writes into each variable-length field, in UTF-8
 * bytes. A longer value would wrap its length field yet still pass the CRC,
 * and on the next open the log would not decode, so the encoder refuses it.
 */
export const RECORD_LIMITS = {
  clientIdBytes: 0xffff, // its u16 length (ids are at most 128 characters anyway)
  rejectionCodeBytes: MAX_REJECTION_CODE,
  rejectionMessageBytes: 3 * MAX_REJECTION_MESSAGE,
  bodyBytes: 0xffffffff, // the header's u32 length
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes one commit; throws `log_field_too_large` rather than write a field past its limit. */
export function encodeRecord(record: CommitRecord): Uint8Array {
  const field = (what: string, value: string, limit: number): Uint8Array => {
    const bytes = encoder.encode(value);
    if (bytes.length > limit) {
      throw new QuireError('log_field_too_large', `commit ${record.lsn}: the ${what} is ${bytes.length} bytes, over the commit log's limit of ${limit} — nothing was written; this is a bug in whatever built the commit (Quire caps rejections before they reach the log), please report it`);
    }
    return bytes;
  };
  const settled = record.settled.map((s) => ({ id: field('client id of a settled entry', s.clientId, RECORD_LIMITS.clientIdBytes), lastSeq: s.lastSeq }));
  const rejections = record.rejections.map((r) => {
    const who = `client ${JSON.stringify(r.clientId.slice(0, 128))} seq ${r.seq}`;
    return {
      id: field('client id of a rejection', r.clientId, RECORD_LIMITS.clientIdBytes),
      seq: r.seq,
      code: field(`rejection code of ${who}`, r.code, RECORD_LIMITS.rejectionCodeBytes),
      message: field(`rejection message of ${who}`, r.message, RECORD_LIMITS.rejectionMessageBytes),
    };
  });
  let body = 8 + 4 + 4 + 4 + 8 + 4 + record.pages.length * (4 + PAGE_SIZE) + 4 + 4;
  for (const s of settled) body += 2 + s.id.length + 8;
  for (const r of rejections) body += 2 + r.id.length + 8 + 2 + r.code.length + 4 + r.message.length;
  if (body > RECORD_LIMITS.bodyBytes) {
    throw new QuireError('log_field_too_large', `commit ${record.lsn} is ${body} bytes, over the commit log's limit of ${RECORD_LIMITS.bodyBytes} — nothing was written; make smaller batches`);
  }

  const out = new Uint8Array(RECORD.headerBytes + body + RECORD.trailerBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, RECORD.magic);
  view.setUint32(4, body);
  let at = RECORD.headerBytes;
  const u16 = (v: number) => void (view.setUint16(at, v), (at += 2));
  const u32 = (v: number) => void (view.setUint32(at, v), (at += 4));
  const u64 = (v: number) => void (view.setBigUint64(at, BigInt(v)), (at += 8));
  const bytes = (b: Uint8Array) => void (out.set(b, at), (at += b.length));

  u64(record.lsn);
  u32(record.pageCount);
  u32(record.volume.salt1);
  u32(record.volume.salt2);
  u64(record.volume.offset);
  u32(record.pages.length);
  for (const page of record.pages) u32(page.pgno);
  for (const page of record.pages) bytes(page.data);
  u32(settled.length);
  for (const s of settled) (u16(s.id.length), bytes(s.id), u64(s.lastSeq));
  u32(rejections.length);
  for (const r of rejections) (u16(r.id.length), bytes(r.id), u64(r.seq), u16(r.code.length), bytes(r.code), u32(r.message.length), bytes(r.message));
  view.setUint32(at, crc32(out.subarray(RECORD.headerBytes, at)));
  return out;
}

/** Decodes a record body (between the header and the crc). Throws on any inconsistency. */
export function decodeRecordBody(body: Uint8Array, options: { pages: boolean }): CommitRecord & { pgnos: number[] } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > body.length) throw new RangeError(`commit record truncated at byte ${at}`);
  };
  const u16 = () => (need(2), (at += 2), view.getUint16(at - 2));
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4));
  const u64 = () => (need(8), (at += 8), Number(view.getBigUint64(at - 8)));
  const text = (n: number) => (need(n), (at += n), decoder.decode(body.subarray(at - n, at)));

  const lsn = u64();
  const pageCount = u32();
  const volume = { salt1: u32(), salt2: u32(), offset: u64() };
  const count = u32();
  need(count * (4 + PAGE_SIZE));
  const pgnos = Array.from({ length: count }, () => u32());
  // Copy into plain Uint8Arrays: callers may get a Buffer body, and pages outlive it.
  const start = body.byteOffset + at;
  const pages = options.pages
    ? pgnos.map((pgno, i) => ({ pgno, data: new Uint8Array(body.buffer.slice(start + i * PAGE_SIZE, start + (i + 1) * PAGE_SIZE)) }))
    : [];
  at += count * PAGE_SIZE;
  const settled = Array.from({ length: u32() }, () => ({ clientId: text(u16()), lastSeq: u64() }));
  const rejections: RejectionRecord[] = Array.from({ length: u32() }, () => ({ clientId: text(u16()), seq: u64(), code: text(u16()), message: text(u32()) }));
  if (at !== body.length) throw new RangeError(`commit record has ${body.length - at} trailing bytes`);
  return { lsn, pageCount, pages, pgnos, settled, rejections, volume };
}
