import { applyFossilDelta, encodeFossilDelta } from './fossil-delta.js';

/** How a commit sends a page: whole, or as a delta from the image the receiver holds. */
export const PageEncoding = {
  /** The whole new image. */
  image: 0,
  // 1 was an XOR of the two images (protocol 6 and before): 4 KB per page for the frame's deflate to squeeze, on every commit.
  /**
   * A copy/insert delta: u16 length of the unchanged prefix, u16 length of
   * the unchanged suffix, then a Fossil delta (with a checksum of its
   * result) of the middle. An insert into a b-tree page shifts its
   * cell-pointer array by two bytes, which a patch would have to resend;
   * copy/insert describes it in a few bytes. Trimming first keeps the
   * server's CPU cost per page low.
   */
  copy: 2,
  /** The changed byte ranges: u16 offset, u16 length, then that many new bytes; repeated. */
  patch: 3,
} as const;
export type PageEncoding = (typeof PageEncoding)[keyof typeof PageEncoding];

const COPY_MIN_CHANGED = 64;
// Unchanged bytes shorter than a range's header are sent rather than split around.
const RANGE_HEADER = 4;

/** The cheapest encoding of `after` for a receiver that holds `before` (if any); `copy: false` skips the costlier copy/insert delta. */
export function encodePageChange(before: Uint8Array | undefined, after: Uint8Array, copy = true): { encoding: PageEncoding; data: Uint8Array } {
  if (!before || before.length !== after.length) return { encoding: PageEncoding.image, data: after };
  const ranges = changedRanges(before, after);
  const patch = encodePatch(after, ranges);
  // A patch is bytes the receiver lacks plus a few headers; a copy/insert
  // delta is smaller only when an insert shifted many bytes. Its commands
  // and checksum take ~30 bytes: below COPY_MIN_CHANGED it saves too little
  // to be worth its CPU time, on the path from a commit to its broadcast.
  if (patch.length <= COPY_MIN_CHANGED || !copy) return { encoding: PageEncoding.patch, data: patch };
  const delta = copyDelta(before, after);
  return delta.length < patch.length ? { encoding: PageEncoding.copy, data: delta } : { encoding: PageEncoding.patch, data: patch };
}

/**
 * The new image from a change and the receiver's image, or undefined when
 * that image is missing or is not the one the delta was made from.
 */
export function decodePageChange(before: Uint8Array | undefined, encoding: number, data: Uint8Array): Uint8Array | undefined {
  if (encoding === PageEncoding.image) return data;
  if (!before) return undefined;
  if (encoding === PageEncoding.patch) return applyPatch(before, data);
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
  const out = new Uint8Array(before.length);
  out.set(before.subarray(0, prefix));
  out.set(before.subarray(before.length - suffix), before.length - suffix);
  const middle = before.length - prefix - suffix;
  // The delta is from the middle of `before`, and its result is the middle of `out`.
  if (!applyFossilDelta(before.subarray(prefix, before.length - suffix), data.subarray(4), out, prefix, middle)) return undefined;
  return out;
}

/**
 * The byte ranges [start, end) where the images differ, merged across gaps
 * shorter than a range header. Compared a word at a time where aligned:
 * this runs for every changed page of every commit, on the server.
 */
function changedRanges(before: Uint8Array, after: Uint8Array): number[] {
  const ranges: number[] = [];
  const n = after.length;
  const x = words(before);
  const y = words(after);
  let i = 0;
  while (i < n) {
    if (x && y && i % 4 === 0) {
      let w = i / 4;
      while (w < x.length && x[w] === y[w]) w++;
      i = w * 4;
      if (i >= n) break;
    }
    if (before[i] === after[i]) {
      i++;
      continue;
    }
    const start = i;
    let end = i + 1;
    // Extend across unchanged gaps shorter than a header.
    for (let j = end; j < n && j - end < RANGE_HEADER; j++) if (before[j] !== after[j]) end = j + 1;
    ranges.push(start, end);
    i = end;
  }
  return ranges;
}

function encodePatch(after: Uint8Array, ranges: readonly number[]): Uint8Array {
  let size = 0;
  for (let r = 0; r < ranges.length; r += 2) size += RANGE_HEADER + ranges[r + 1]! - ranges[r]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const start = ranges[r]!;
    const length = ranges[r + 1]! - start;
    out[at] = start >> 8;
    out[at + 1] = start & 0xff;
    out[at + 2] = length >> 8;
    out[at + 3] = length & 0xff;
    out.set(after.subarray(start, start + length), at + RANGE_HEADER);
    at += RANGE_HEADER + length;
  }
  return out;
}

function applyPatch(before: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(before);
  let at = 0;
  while (at < data.length) {
    if (at + RANGE_HEADER > data.length) return undefined;
    const start = (data[at]! << 8) | data[at + 1]!;
    const length = (data[at + 2]! << 8) | data[at + 3]!;
    at += RANGE_HEADER;
    if (start + length > out.length || at + length > data.length) return undefined;
    out.set(data.subarray(at, at + length), start);
    at += length;
  }
  return out;
}

/** The bytes as 32-bit words, when they are aligned and a whole number of them. */
function words(data: Uint8Array): Int32Array | undefined {
  if (data.byteOffset % 4 !== 0 || data.length % 4 !== 0) return undefined;
  return new Int32Array(data.buffer, data.byteOffset, data.length / 4);
}
