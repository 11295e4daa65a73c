const encoder = new TextEncoder();

/** Bytes an unsigned LEB128 encoding of `n` takes. */
export function varuintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  let size = 4;
  for (let v = Math.floor(n / 0x200000); v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

/**
 * UTF-8 byte length without encoding. Lone surrogates count 3 bytes because
 * encodeInto writes them as U+FFFD, so the precomputed size always matches.
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // two code units, four bytes
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}

/**
 * Writes into one buffer sized up front. String byte lengths were computed
 * during sizing and are consumed here in the same order, so no string is
 * scanned or encoded twice.
 */
export class Writer {
  readonly buf: Uint8Array<ArrayBuffer>;
  pos = 0;
  private nextString = 0;
  private nextArg = 0;

  constructor(
    size: number,
    private readonly stringLengths: readonly number[],
    private readonly packedArgs: readonly Uint8Array[] = [],
  ) {
    this.buf = new Uint8Array(size);
  }

  /** The next reducer arguments as sizing packed them. */
  nextArgs(): Uint8Array {
    return this.packedArgs[this.nextArg++]!;
  }

  u8(byte: number): void {
    this.buf[this.pos++] = byte;
  }

  varuint(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    // Bitwise ops truncate to 32 bits, so large values take the slow division path.
    while (n > 0x7fffffff) {
      buf[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    while (n > 0x7f) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  bool(value: boolean): void {
    this.buf[this.pos++] = value ? 1 : 0;
  }

  string(s: string): void {
    const n = this.stringLengths[this.nextString++]!;
    this.varuint(n);
    if (n > 0) {
      const { written } = encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + n));
      if (written !== n) throw new Error(`internal: UTF-8 length ${written} differs from the precomputed ${n}`);
      this.pos += n;
    }
  }

  bytes(data: Uint8Array): void {
    this.varuint(data.length);
    this.raw(data);
  }

  /** Bytes without a length. */
  raw(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A big-endian IEEE 754 double. */
  float64(value: number): void {
    new DataView(this.buf.buffer, this.pos, 8).setFloat64(0, value);
    this.pos += 8;
  }
}
