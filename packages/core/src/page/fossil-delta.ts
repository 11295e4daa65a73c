/**
 * A Fossil delta encoder (the format `applyDelta` of the fossil-delta
 * package reads: https://fossil-scm.org/home/doc/tip/www/delta_format.wiki),
 * made for the changed middle of a b-tree page. The package's encoder
 * chains every 16-byte block of the source in one hash bucket when the page
 * has free space (all zeros), and tries up to 250 of them at each byte: about
 * 0.3 ms a page, on the path from a commit to its broadcast. This one is
 * greedy, in linear time (tens of microseconds): at each target byte it
 * tries the same offset in the source, the shift of the last copy, and the
 * first source position with the same four bytes, and takes the longest match.
 */

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~';
const DIGIT_CODES = Uint8Array.from(DIGITS, (c) => c.charCodeAt(0));
const HASH_BITS = 12;
// A copy shorter than this costs about as much as the bytes it replaces.
const MIN_COPY = 8;

// Reused across calls: the encoder runs synchronously, one page at a time.
const firstAt = new Int32Array(1 << HASH_BITS);

/** A Fossil delta that turns `source` into `target`, with the checksum of `target`. */
export function encodeFossilDelta(source: Uint8Array, target: Uint8Array): Uint8Array {
  const out = new DeltaWriter(target.length + 32);
  out.int(target.length);
  out.byte(0x0a);
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
    if (i > literalStart) out.insert(target, literalStart, i);
    out.copy(bestFrom, bestLength);
    shift = i - bestFrom;
    i += bestLength;
    literalStart = i;
  }
  if (literalStart < target.length) out.insert(target, literalStart, target.length);
  out.int(fossilChecksum(target));
  out.byte(0x3b);
  return out.bytes();
}

// Each digit's value, by character code (-1: not a digit).
const DIGIT_VALUES = new Int8Array(128).fill(-1);
DIGIT_CODES.forEach((code, value) => (DIGIT_VALUES[code] = value));

/**
 * Applies a Fossil delta from `source`, writing its result into `out` at
 * `at`: it must be exactly `length` bytes and match the delta's checksum.
 * Returns false for a malformed delta or any mismatch (`out` is then
 * partly written). Writing in place spares the copy of a separate result,
 * on the path of every changed page of every commit a client receives.
 */
export function applyFossilDelta(source: Uint8Array, delta: Uint8Array, out: Uint8Array, at: number, length: number): boolean {
  let pos = 0;
  const int = (): number => {
    let value = 0;
    let digits = 0;
    while (pos < delta.length) {
      const digit = DIGIT_VALUES[delta[pos]!] ?? -1;
      if (digit < 0) break;
      value = value * 64 + digit;
      pos++;
      digits++;
    }
    return digits === 0 ? -1 : value;
  };
  if (int() !== length || delta[pos++] !== 0x0a) return false;
  let written = 0;
  while (pos < delta.length) {
    const count = int();
    if (count < 0) return false;
    const op = delta[pos++];
    if (op === 0x40) {
      const from = int();
      if (from < 0 || delta[pos++] !== 0x2c) return false;
      if (from + count > source.length || written + count > length) return false;
      out.set(source.subarray(from, from + count), at + written);
      written += count;
    } else if (op === 0x3a) {
      if (pos + count > delta.length || written + count > length) return false;
      out.set(delta.subarray(pos, pos + count), at + written);
      pos += count;
      written += count;
    } else if (op === 0x3b) {
      return written === length && fossilChecksum(out.subarray(at, at + length)) === count;
    } else {
      return false;
    }
  }
  return false;
}

/** Fossil's checksum: the sum of the target's big-endian 32-bit words (a short tail counts as a zero-padded word). */
export function fossilChecksum(data: Uint8Array): number {
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

/** Appends delta commands to a growing buffer. */
class DeltaWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** An unsigned integer in Fossil's base 64, most significant digit first. */
  int(value: number): void {
    let digits = 1;
    while (value >= 64 ** digits) digits++;
    this.reserve(digits);
    for (let d = digits - 1; d >= 0; d--) this.buffer[this.length + d] = DIGIT_CODES[(value / 64 ** (digits - 1 - d)) & 63]!;
    this.length += digits;
  }

  insert(data: Uint8Array, from: number, to: number): void {
    this.int(to - from);
    this.byte(0x3a);
    this.reserve(to - from);
    this.buffer.set(data.subarray(from, to), this.length);
    this.length += to - from;
  }

  copy(from: number, length: number): void {
    this.int(length);
    this.byte(0x40);
    this.int(from);
    this.byte(0x2c);
  }

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
