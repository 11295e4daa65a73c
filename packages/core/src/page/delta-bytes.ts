/**
 * Unsigned LEB128 integers for page deltas (the same varuint as the
 * protocol's, kept here so that page/ depends on nothing above it).
 */

/** Appends bytes and varuints to a growing buffer. */
export class DeltaWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(Math.max(16, capacity));
  }

  varuint(value: number): void {
    this.reserve(8);
    while (value >= 0x80) {
      this.buffer[this.length++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.length++] = value;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  u32(value: number): void {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value >>> 0);
    this.length += 4;
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

/**
 * Reads the varuint at `cursor.at` (at most `maxBytes` bytes, 3 by default:
 * deltas describe 4 KiB-scale offsets and lengths) and moves past it; -1
 * when it is malformed, longer, or runs past `end`.
 */
export function readVaruint(data: Uint8Array, cursor: { at: number }, end: number, maxBytes = 3): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (cursor.at >= end) return -1;
    const byte = data[cursor.at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return byte === 0 && i > 0 ? -1 : value;
    scale *= 0x80;
  }
  return -1;
}
