import { DeltaWriter, readVaruint } from './delta-bytes.js';

/**
 * A binary copy/insert delta, made for the changed middle of a b-tree page
 * (an insert shifts the cell-pointer array, which a patch would resend).
 * Commands, then a checksum of the result:
 * - copy: varuint `length * 2 + 1`, varuint source offset;
 * - insert: varuint `length * 2`, then that many bytes;
 * - the last 4 bytes: `deltaChecksum` of the target, big-endian.
 * Fossil's format (protocol 8) wrote the same commands as base-64 text with
 * separators, about a third larger. The encoder is greedy, in linear time
 * (tens of microseconds a page): at each target byte it tries the same
 * offset in the source, the shift of the last copy, and the first source
 * position with the same four bytes, and takes the longest match.
 */

const HASH_BITS = 12;
// A copy shorter than this costs about as much as the bytes it replaces.
const MIN_COPY = 5;

// Reused across calls: the encoder runs synchronously, one page at a time.
const firstAt = new Int32Array(1 << HASH_BITS);

/** A delta that turns `source` into `target`, with the checksum of `target`. */
export function encodeCopyDelta(source: Uint8Array, target: Uint8Array): Uint8Array {
  const out = new DeltaWriter(Math.min(target.length + 16, 256));
  indexSource(source);
  let literalStart = 0;
  let shift = 0;
  let i = 0;
  while (i + MIN_COPY <= target.length) {
    // Same offset (the page did not move there), the last copy's shift, or the same four bytes anywhere.
    let bestFrom = i;
    let bestLength = matchLength(source, i, target, i);
    const shifted = i - shift;
    if (shifted !== i && shifted >= 0) {
      const length = matchLength(source, shifted, target, i);
      if (length > bestLength) (bestFrom = shifted), (bestLength = length);
    }
    const hashed = firstAt[hash4(target, i)]!;
    if (hashed >= 0 && hashed !== i && hashed !== shifted) {
      const length = matchLength(source, hashed, target, i);
      if (length > bestLength) (bestFrom = hashed), (bestLength = length);
    }
    if (bestLength < MIN_COPY) {
      i++;
      continue;
    }
    // Grow the copy backwards over literal bytes it also matches.
    while (i > literalStart && bestFrom > 0 && source[bestFrom - 1] === target[i - 1]) (i--, bestFrom--, bestLength++);
    if (i > literalStart) insert(out, target, literalStart, i);
    out.varuint(bestLength * 2 + 1);
    out.varuint(bestFrom);
    shift = i - bestFrom;
    i += bestLength;
    literalStart = i;
  }
  if (literalStart < target.length) insert(out, target, literalStart, target.length);
  out.u32(deltaChecksum(target));
  return out.result();
}

function insert(out: DeltaWriter, data: Uint8Array, from: number, to: number): void {
  out.varuint((to - from) * 2);
  out.bytes(data.subarray(from, to));
}

/**
 * Applies a delta from `source`, writing its result into `out` at `at`: it
 * must be exactly `length` bytes and match the delta's checksum. Returns
 * false for a malformed delta or any mismatch (`out` is then partly
 * written). Writing in place spares the copy of a separate result, on the
 * path of every changed page of every commit a client receives.
 */
export function applyCopyDelta(source: Uint8Array, delta: Uint8Array, out: Uint8Array, at: number, length: number): boolean {
  const end = delta.length - 4;
  if (end < 0) return false;
  const cursor = { at: 0 };
  let written = 0;
  while (cursor.at < end) {
    const command = readVaruint(delta, cursor, end);
    if (command < 0) return false;
    const count = command >>> 1;
    if (written + count > length) return false;
    if (command & 1) {
      const from = readVaruint(delta, cursor, end);
      if (from < 0 || from + count > source.length) return false;
      out.set(source.subarray(from, from + count), at + written);
    } else {
      if (cursor.at + count > end) return false;
      out.set(delta.subarray(cursor.at, cursor.at + count), at + written);
      cursor.at += count;
    }
    written += count;
  }
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength);
  return written === length && deltaChecksum(out.subarray(at, at + length)) === view.getUint32(end);
}

/** Fossil's checksum: the sum of the target's big-endian 32-bit words (a short tail counts as a zero-padded word). */
export function deltaChecksum(data: Uint8Array): number {
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  let z = 0;
  const whole = data.length - (data.length % 4);
  for (; z < whole; z += 4) {
    sum0 = (sum0 + data[z]!) | 0;
    sum1 = (sum1 + data[z + 1]!) | 0;
    sum2 = (sum2 + data[z + 2]!) | 0;
    sum3 = (sum3 + data[z + 3]!) | 0;
  }
  let sum = (sum3 + (sum2 << 8) + (sum1 << 16) + (sum0 << 24)) | 0;
  const tail = data.length - whole;
  if (tail >= 3) sum = (sum + (data[z + 2]! << 8)) | 0;
  if (tail >= 2) sum = (sum + (data[z + 1]! << 16)) | 0;
  if (tail >= 1) sum = (sum + (data[z]! << 24)) | 0;
  return sum >>> 0;
}

/** Fills `firstAt` with the first source position of each four-byte hash (-1: none). */
function indexSource(source: Uint8Array): void {
  firstAt.fill(-1);
  for (let p = source.length - 4; p >= 0; p--) firstAt[hash4(source, p)] = p;
}

function hash4(data: Uint8Array, at: number): number {
  const word = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
  return Math.imul(word, 0x9e3779b1) >>> (32 - HASH_BITS);
}

function matchLength(source: Uint8Array, from: number, target: Uint8Array, at: number): number {
  const limit = Math.max(0, Math.min(source.length - from, target.length - at));
  let n = 0;
  while (n < limit && source[from + n] === target[at + n]) n++;
  return n;
}
