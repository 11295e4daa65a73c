import { applyDelta } from 'fossil-delta';
import { encodeFossilDelta } from './fossil-delta.js';

/** How a commit sends a page: whole, or as a delta from the image the receiver holds. */
export const PageEncoding = {
  /** The whole new image. */
  image: 0,
  /** New XOR old: zeros where nothing changed, which the frame's deflate removes. */
  xor: 1,
  /**
   * A copy/insert delta: u16 length of the unchanged prefix, u16 length of
   * the unchanged suffix, then a Fossil delta (with a checksum of its
   * result) of the middle. An insert into a b-tree page shifts its
   * cell-pointer array by two bytes, which XOR turns into noise;
   * copy/insert describes it in a few bytes. Trimming first keeps the
   * server's CPU cost per page low.
   */
  copy: 2,
} as const;
export type PageEncoding = (typeof PageEncoding)[keyof typeof PageEncoding];

const COPY_MIN_CHANGED = 64;

/** The cheapest encoding of `after` for a receiver that holds `before` (if any); `copy: false` skips the costlier copy/insert delta. */
export function encodePageChange(before: Uint8Array | undefined, after: Uint8Array, copy = true): { encoding: PageEncoding; data: Uint8Array } {
  if (!before) return { encoding: PageEncoding.image, data: after };
  const xor = xorPages(before, after);
  const changed = nonZeroBytes(xor);
  // Changed bytes are what deflate cannot remove from an XOR delta; a
  // copy/insert delta is already about as small as it gets. Its commands
  // and checksum take ~30 bytes: below COPY_MIN_CHANGED it saves too little
  // to be worth its CPU time, on the path from a commit to its broadcast.
  if (changed <= COPY_MIN_CHANGED || !copy) return { encoding: PageEncoding.xor, data: xor };
  const delta = copyDelta(before, after);
  return delta.length < changed ? { encoding: PageEncoding.copy, data: delta } : { encoding: PageEncoding.xor, data: xor };
}

/**
 * The new image from a change and the receiver's image, or undefined when
 * that image is missing or is not the one the delta was made from.
 */
export function decodePageChange(before: Uint8Array | undefined, encoding: number, data: Uint8Array): Uint8Array | undefined {
  if (encoding === PageEncoding.image) return data;
  if (!before) return undefined;
  if (encoding === PageEncoding.xor) return before.length === data.length ? xorPages(before, data) : undefined;
  if (encoding === PageEncoding.copy) return applyCopyDelta(before, data);
  return undefined;
}

function copyDelta(before: Uint8Array, after: Uint8Array): Uint8Array {
  const n = after.length;
  let prefix = 0;
  while (prefix < n && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < n - prefix && before[n - 1 - suffix] === after[n - 1 - suffix]) suffix++;
  const delta = encodeFossilDelta(before.subarray(prefix, n - suffix), after.subarray(prefix, n - suffix));
  const out = new Uint8Array(4 + delta.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, prefix);
  view.setUint16(2, suffix);
  out.set(delta, 4);
  return out;
}

function applyCopyDelta(before: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  if (data.length < 4) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const prefix = view.getUint16(0);
  const suffix = view.getUint16(2);
  if (prefix + suffix > before.length) return undefined;
  let middle: Uint8Array;
  try {
    middle = applyDelta(before.subarray(prefix, before.length - suffix), data.subarray(4), { verifyChecksum: true });
  } catch {
    return undefined;
  }
  if (prefix + middle.length + suffix !== before.length) return undefined;
  const out = new Uint8Array(before.length);
  out.set(before.subarray(0, prefix));
  out.set(middle, prefix);
  out.set(before.subarray(before.length - suffix), prefix + middle.length);
  return out;
}

/** XOR of two page images; applied to one, gives the other back. */
export function xorPages(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`cannot XOR pages of ${a.length} and ${b.length} bytes`);
  const out = new Uint8Array(a.length);
  const x = words(a);
  const y = words(b);
  if (x && y) {
    // A word at a time: this runs for every changed page on the server and on each client.
    const o = new Int32Array(out.buffer);
    for (let i = 0; i < o.length; i++) o[i] = x[i]! ^ y[i]!;
    return out;
  }
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function nonZeroBytes(data: Uint8Array): number {
  const w = words(data);
  let count = 0;
  if (!w) {
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) count++;
    return count;
  }
  for (let i = 0; i < w.length; i++) {
    const word = w[i]!;
    if (word !== 0) count += (word & 0xff ? 1 : 0) + (word & 0xff00 ? 1 : 0) + (word & 0xff0000 ? 1 : 0) + (word & 0xff000000 ? 1 : 0);
  }
  return count;
}

/** The bytes as 32-bit words, when they are aligned and a whole number of them. */
function words(data: Uint8Array): Int32Array | undefined {
  if (data.byteOffset % 4 !== 0 || data.length % 4 !== 0) return undefined;
  return new Int32Array(data.buffer, data.byteOffset, data.length / 4);
}
