import { Fault } from './fault.js';
import { Reader } from './reader.js';
import { Writer, utf8Length, varuintSize } from './writer.js';

/**
 * How a push carries a mutation's arguments. They are superjson text, which
 * for plain JSON is `{"json":<value>}`. On the wire (`bytes`), by first byte:
 * - below 0xf0: the value, in the binary form below, for `{"json":<value>}`
 *   exactly as JSON.stringify writes it: no quotes or key punctuation, short
 *   strings and small numbers with a one-byte header;
 * - 0xf0, then UTF-8 text: the text as it is;
 * - 0xf1, then UTF-8 text: `{"json":<text>}` (superjson with `meta`, whose
 *   inside is not one JSON value);
 * - 0xf2, then values: an object with the keys of the last object sent
 *   whole (0x88) on the connection, in their order, and these values (see
 *   ArgKeys: a reducer called again and again names its keys once).
 *
 * A value, by its first byte:
 * | byte        | value                                                    |
 * | 0x00-0x3f   | the integer 0-63                                         |
 * | 0x40-0x7f   | a string of (byte - 0x40) UTF-8 bytes, which follow      |
 * | 0x80 / 81 / 82 | null / false / true                                   |
 * | 0x83        | a string: varuint byte length (64 or more), UTF-8 bytes   |
 * | 0x84        | an integer: varuint (64 to 2^53 - 1)                      |
 * | 0x85        | a negative integer: varuint of its magnitude (1 or more)  |
 * | 0x86        | any other number: float64, big-endian                     |
 * | 0x87        | an array: varuint count, then that many values            |
 * | 0x88        | an object: varuint count, then per member a key (varuint  |
 * |             | byte length, UTF-8 bytes) and a value                     |
 * Each value has exactly one form: a shorter one that fits must be used.
 * An object whose keys repeat, or look like integers (JavaScript puts those
 * first, so the text would not come back the same), goes as text.
 */

const WRAPPER = '{"json":';
const RAW = 0xf0;
const INNER = 0xf1;
const SAME_KEYS = 0xf2;
const NULL = 0x80;
const FALSE = 0x81;
const TRUE = 0x82;
const STRING = 0x83;
const UINT = 0x84;
const NEGATIVE = 0x85;
const FLOAT = 0x86;
const ARRAY = 0x87;
const OBJECT = 0x88;
const SHORT_STRING = 0x40;
const SHORT_MAX = 0x3f;
// Nesting beyond this goes as text: the decoder recurses once per level.
const MAX_DEPTH = 32;
// Keys JavaScript orders before the others, whatever their order in the text (a superset, to be safe).
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

const encoder = new TextEncoder();

// The codec sizes a frame before it writes it, and push-frames.ts sizes
// mutations before that: each packs the same text. A small memo spares the repeats.
const memo = new Map<string, Uint8Array>();
const MEMO_ENTRIES = 64;

/** The wire form of superjson argument text. */
export function packArgs(text: string): Uint8Array {
  let packed = memo.get(text);
  if (packed) return packed;
  packed = pack(text);
  if (memo.size >= MEMO_ENTRIES) memo.clear();
  memo.set(text, packed);
  return packed;
}

/**
 * One connection's memory, on each side, of the keys of the last object
 * its pushes sent whole (0x88): the next object with the same keys, in the
 * same order, goes as 0xf2 and its values. Both sides change it only on an
 * object sent whole, in frame order.
 */
export class ArgKeys {
  last: readonly string[] | undefined;
}

/** The wire form of argument text on a connection whose keys are `keys`, which it updates. */
export function packArgsWith(text: string, keys: ArgKeys): Uint8Array {
  const wire = packArgs(text);
  if (wire[0] !== OBJECT) return wire;
  const at = new Reader(wire, 1);
  const count = at.count(1);
  const same = keys.last !== undefined && keys.last.length === count;
  const names: string[] = [];
  const values: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const key = at.text(at.varuint());
    names.push(key);
    const start = at.pos;
    readValue(at, 1);
    values.push(wire.subarray(start, at.pos));
  }
  if (!same || names.some((name, i) => name !== keys.last![i])) {
    keys.last = names;
    return wire;
  }
  const out = new Uint8Array(1 + values.reduce((n, v) => n + v.length, 0));
  out[0] = SAME_KEYS;
  let pos = 1;
  for (const v of values) {
    out.set(v, pos);
    pos += v.length;
  }
  return out;
}

/**
 * The argument text `packArgs` was given, from its wire form; a Fault when
 * it is malformed or not the form `packArgs` gives (each text has one).
 * With the connection's `keys` (which it updates), 0xf2 is read too.
 */
export function unpackArgs(wire: Uint8Array, keys?: ArgKeys): string {
  if (wire.length === 0) throw new Fault('empty arguments');
  if (wire[0] === SAME_KEYS) return `${WRAPPER}${unpackSameKeys(wire, keys)}}`;
  if (keys && wire[0] === OBJECT) {
    const names: string[] = [];
    const text = `${WRAPPER}${unpackValue(wire, names)}}`;
    keys.last = names;
    return text;
  }
  return unpackText(wire);
}

function unpackSameKeys(wire: Uint8Array, keys: ArgKeys | undefined): string {
  const last = keys?.last;
  if (!last) throw new Fault('arguments repeat the keys of the previous object, but none came before on this connection — send the object whole');
  const at = new Reader(wire, 1);
  const object: Record<string, unknown> = {};
  for (const key of last) set(object, key, readValue(at, 1));
  if (at.remaining > 0) throw new Fault(`${at.remaining} trailing bytes after the arguments`);
  return JSON.stringify(object);
}

function unpackText(wire: Uint8Array): string {
  const first = wire[0]!;
  if (first === RAW) {
    const text = new Reader(wire, 1).text(wire.length - 1);
    if (wrapped(text)) throw new Fault('plain-JSON superjson text sent as raw text');
    return text;
  }
  if (first === INNER) {
    const inner = new Reader(wire, 1).text(wire.length - 1);
    if (packValue(inner)) throw new Fault('arguments sent as text that has a binary form');
    return `${WRAPPER}${inner}}`;
  }
  return `${WRAPPER}${unpackValue(wire)}}`;
}

function pack(text: string): Uint8Array {
  if (!wrapped(text)) return prefixed(RAW, text);
  const inner = text.slice(WRAPPER.length, -1);
  return packValue(inner) ?? prefixed(INNER, inner);
}

function wrapped(text: string): boolean {
  return text.startsWith(WRAPPER) && text.endsWith('}');
}

/** The binary form of JSON text, when it has one that gives back that very text. */
function packValue(json: string): Uint8Array | undefined {
  const value = parseJson(json);
  if (value === undefined) return undefined;
  const size = valueSize(value.parsed, 0);
  if (size < 0) return undefined;
  const packed = new Writer(size, []);
  writeValue(packed, value.parsed);
  // Only text that JSON.stringify would write back the same goes as a value.
  return unpackValue(packed.buf) === json ? packed.buf : undefined;
}

/** `keys`: filled with the top-level object's keys, if it is one. */
function unpackValue(wire: Uint8Array, keys?: string[]): string {
  if (wire[0]! > OBJECT) throw new Fault(`arguments start with unknown byte 0x${wire[0]!.toString(16)}`);
  const at = new Reader(wire, 0);
  const value = readValue(at, 0, keys);
  if (at.remaining > 0) throw new Fault(`${at.remaining} trailing bytes after the arguments`);
  return JSON.stringify(value);
}

function parseJson(text: string): { parsed: unknown } | undefined {
  try {
    return { parsed: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

function prefixed(first: number, text: string): Uint8Array {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = first;
  out.set(bytes, 1);
  return out;
}

/** The encoded size of a parsed JSON value; -1 when it nests deeper than MAX_DEPTH. */
function valueSize(value: unknown, depth: number): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') {
    const n = utf8Length(value);
    return n <= SHORT_MAX ? 1 + n : 1 + varuintSize(n) + n;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return 9;
    const magnitude = Math.abs(value);
    return value >= 0 && value <= SHORT_MAX ? 1 : 1 + varuintSize(magnitude);
  }
  if (depth >= MAX_DEPTH) return -1;
  const entries = Array.isArray(value) ? value.map((v) => [undefined, v] as const) : Object.entries(value as object);
  // An object with integer-like keys goes as text: JSON.parse would put those keys first, in another order.
  if (!Array.isArray(value) && entries.some(([key]) => key !== undefined && INDEX_KEY.test(key))) return -1;
  let size = 1 + varuintSize(entries.length);
  for (const [key, v] of entries) {
    if (key !== undefined) size += varuintSize(utf8Length(key)) + utf8Length(key);
    const n = valueSize(v, depth + 1);
    if (n < 0) return -1;
    size += n;
  }
  return size;
}

function writeValue(out: Writer, value: unknown): void {
  if (value === null) return out.u8(NULL);
  if (typeof value === 'boolean') return out.u8(value ? TRUE : FALSE);
  if (typeof value === 'string') {
    const bytes = encoder.encode(value);
    if (bytes.length <= SHORT_MAX) out.u8(SHORT_STRING + bytes.length);
    else {
      out.u8(STRING);
      out.varuint(bytes.length);
    }
    return out.raw(bytes);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      out.u8(FLOAT);
      return out.float64(value);
    }
    if (value >= 0 && value <= SHORT_MAX) return out.u8(value);
    out.u8(value >= 0 ? UINT : NEGATIVE);
    return out.varuint(Math.abs(value));
  }
  if (Array.isArray(value)) {
    out.u8(ARRAY);
    out.varuint(value.length);
    for (const v of value) writeValue(out, v);
    return;
  }
  const entries = Object.entries(value as object);
  out.u8(OBJECT);
  out.varuint(entries.length);
  for (const [key, v] of entries) {
    const bytes = encoder.encode(key);
    out.varuint(bytes.length);
    out.raw(bytes);
    writeValue(out, v);
  }
}

/**
 * The value at the reader, as JSON.parse would give it: JSON.stringify of
 * it is the value's text. `objectKeys` gets a top-level object's keys.
 */
function readValue(at: Reader, depth: number, objectKeys: string[] = []): unknown {
  const first = at.u8('value');
  if (first <= SHORT_MAX) return first;
  if (first < NULL) return at.text(first - SHORT_STRING);
  switch (first) {
    case NULL:
      return null;
    case FALSE:
      return false;
    case TRUE:
      return true;
    case STRING: {
      const n = at.varuint();
      if (n <= SHORT_MAX) throw new Fault(`a string of ${n} bytes must use the short form`);
      return at.text(n);
    }
    case UINT: {
      const n = at.varuint();
      if (n <= SHORT_MAX) throw new Fault(`the integer ${n} must use the one-byte form`);
      return n;
    }
    case NEGATIVE: {
      const n = at.varuint();
      if (n === 0) throw new Fault('negative zero is not an integer form');
      return -n;
    }
    case FLOAT: {
      const n = at.float64();
      if (!Number.isFinite(n) || Number.isSafeInteger(n)) throw new Fault(`${n} is not a float form (NaN, infinite, or an integer)`);
      return n;
    }
  }
  if (first !== ARRAY && first !== OBJECT) throw new Fault(`a value starts with unknown byte 0x${first.toString(16)}`);
  if (depth >= MAX_DEPTH) throw new Fault(`arguments nest deeper than ${MAX_DEPTH} levels`);
  const count = at.count(1);
  if (first === ARRAY) {
    const items: unknown[] = [];
    for (let i = 0; i < count; i++) items.push(readValue(at, depth + 1));
    return items;
  }
  const object: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = at.text(at.varuint());
    if (Object.hasOwn(object, key)) throw new Fault(`the key ${JSON.stringify(key)} appears twice in one object`);
    if (INDEX_KEY.test(key)) throw new Fault(`the integer-like key ${JSON.stringify(key)} must go as text`);
    objectKeys.push(key);
    set(object, key, readValue(at, depth + 1));
  }
  return object;
}

/** An own property, as JSON.parse makes it: `__proto__` too (an assignment would set the prototype). */
function set(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
