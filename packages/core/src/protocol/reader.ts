import { Fault } from './fault.js';

// ignoreBOM keeps a leading U+FEFF in the string instead of silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads field values from a frame; every failure is a Fault, never a native error. */
export class Reader {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  varuint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    // 8 bytes carry 56 bits, enough for any safe integer; a 9th is never valid.
    for (let i = 0; i < 8; i++) {
      if (pos >= buf.length) throw new Fault('varuint runs past the end of the frame');
      const byte = buf[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) throw new Fault('overlong varuint (ends in a zero byte)');
        // Exact below 2^53, and rounding cannot bring a larger sum back under it.
        if (value > Number.MAX_SAFE_INTEGER) throw new Fault('varuint exceeds Number.MAX_SAFE_INTEGER');
        this.pos = pos;
        return value;
      }
      scale *= 0x80;
    }
    throw new Fault('varuint longer than 8 bytes');
  }

  bool(): boolean {
    if (this.pos >= this.buf.length) throw new Fault('bool runs past the end of the frame');
    const byte = this.buf[this.pos++]!;
    if (byte > 1) throw new Fault(`bool byte ${byte} is neither 0 nor 1`);
    return byte === 1;
  }

  string(): string {
    return this.text(this.length('string'));
  }

  /** The next `n` bytes as UTF-8 text. */
  text(n: number): string {
    if (n > this.remaining) throw new Fault(`text of ${n} bytes runs past the end of the frame`);
    if (n === 0) return '';
    // Short ASCII (ids, keys, names) without TextDecoder, whose every call costs about a microsecond.
    if (n <= 64) {
      const view = this.buf.subarray(this.pos, this.pos + n);
      let ascii = true;
      for (let i = 0; i < n; i++) if (view[i]! >= 0x80) ascii = false;
      if (ascii) {
        this.pos += n;
        return String.fromCharCode.apply(null, view as unknown as number[]);
      }
    }
    let s: string;
    try {
      s = decoder.decode(this.buf.subarray(this.pos, this.pos + n));
    } catch {
      throw new Fault(`string of ${n} bytes is not valid UTF-8`);
    }
    this.pos += n;
    return s;
  }

  u8(what: string): number {
    if (this.pos >= this.buf.length) throw new Fault(`${what} runs past the end of the frame`);
    return this.buf[this.pos++]!;
  }

  /** A big-endian IEEE 754 double. */
  float64(): number {
    if (this.remaining < 8) throw new Fault('float64 runs past the end of the frame');
    const value = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0);
    this.pos += 8;
    return value;
  }

  /** A view into the frame, not a copy: callers that keep it keep the frame alive. */
  bytes(): Uint8Array {
    const n = this.length('bytes');
    const view = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /** An element count, refused unless that many minimal elements could fit. */
  count(minElementSize: number): number {
    const n = this.varuint();
    if (n * minElementSize > this.remaining) {
      throw new Fault(`array count ${n} needs at least ${n * minElementSize} bytes but only ${this.remaining} are left in the frame`);
    }
    return n;
  }

  private length(kind: 'string' | 'bytes'): number {
    const n = this.varuint();
    if (n > this.remaining) throw new Fault(`${kind} length ${n} exceeds the ${this.remaining} bytes left in the frame`);
    return n;
  }
}
