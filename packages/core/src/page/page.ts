/** Quire replicates SQLite databases with 4096-byte pages, numbered from 1. */
export const PAGE_SIZE = 4096;

/** A page number and its image. */
export interface PageImage {
  pgno: number;
  data: Uint8Array;
}

/**
 * Byte offsets in page 1 (the database header) that the client rewrites.
 * See https://sqlite.org/fileformat.html#the_database_header.
 */
export const HEADER = {
  /** File format write version: 2 means WAL. */
  writeVersion: 18,
  /** File format read version: 2 means WAL. */
  readVersion: 19,
  /** File change counter, u32 big-endian. */
  changeCounter: 24,
  /** Page count, u32 big-endian; the freelist's first trunk page and its length follow (28 to 39). */
  pageCount: 28,
  /** Total freelist pages, u32 big-endian: the last of the allocation fields. */
  freelistCount: 36,
  /** Schema cookie, u32 big-endian: SQLite re-reads the schema when it changes. */
  schemaCookie: 40,
  /** "Version valid for": must equal the change counter for the size at 28 to be trusted. */
  versionValidFor: 92,
} as const;

/**
 * Presents a page-1 image to a client connection: WAL flags become rollback
 * flags (a client VFS has no shared memory, so WAL would refuse to open), and
 * the change counter is replaced by one the replica controls, so SQLite drops
 * its page cache whenever the pages underneath changed. A `schemaCookie`, when
 * given, replaces the stored one (see ReplicaPages for why). Written into
 * `into` when given (a buffer of the page's size), else into a new one.
 */
export function presentHeader(page1: Uint8Array, counter: number, schemaCookie?: number, into?: Uint8Array): Uint8Array {
  // A copy, whatever the input: Buffer#slice would return a view and the
  // rewrite would land in the base, which must stay the server's bytes.
  const out = into ?? new Uint8Array(page1.length);
  out.set(page1);
  out[HEADER.writeVersion] = 1;
  out[HEADER.readVersion] = 1;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(HEADER.changeCounter, counter >>> 0);
  view.setUint32(HEADER.versionValidFor, counter >>> 0);
  if (schemaCookie !== undefined) view.setUint32(HEADER.schemaCookie, schemaCookie >>> 0);
  return out;
}

export function readChangeCounter(page1: Uint8Array): number {
  return readU32(page1, HEADER.changeCounter);
}

export function readSchemaCookie(page1: Uint8Array): number {
  return readU32(page1, HEADER.schemaCookie);
}

// Read on every statement (page 1 is read at each transaction's start): no DataView per call.
function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
