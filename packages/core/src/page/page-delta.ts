import { applyCopyDelta, encodeCopyDelta } from './copy-delta.js';
import { cellCount } from './btree-page.js';
import { DeltaWriter, readVaruint } from './delta-bytes.js';

/** How a commit sends a page: whole, or as a delta from the image the receiver holds. */
export const PageEncoding = {
  /** The whole new image. */
  image: 0,
  // Retired: 1, an XOR of the two images (protocol 6 and before); 2 and 3,
  // the copy/insert delta as Fossil text and the patch with u16 offsets (protocol 7 and 8).
  /** The changed byte ranges: varuint gap since the previous range's end (the first: its offset), varuint length, then that many new bytes; repeated. */
  patch: 4,
  /**
   * A copy/insert delta: varuint length of the unchanged prefix, varuint
   * length of the unchanged suffix, then a copy/insert delta (with a
   * checksum of its result, see copy-delta.ts) of the middle. An insert into
   * a b-tree page shifts its cell-pointer array by two bytes, which a patch
   * would have to resend; copy/insert describes it in a few bytes. Trimming
   * first keeps the server's CPU cost per page low.
   */
  copy: 5,
  /**
   * A copy/insert delta (see copy-delta.ts) from the page's own image and a
   * sibling's, as the receiver holds both at the commit's base: varuint
   * `sibling pgno * 2 + 1`, then the delta from the two images end to end
   * (own first, offsets 0 to 8191) to the whole new image. When SQLite
   * rebalances b-tree siblings it moves cells from one page to another: the
   * cells a page receives are in its sibling's old image, not in its own.
   * The low bit is 1 (the own image is in the source); 0 is refused, kept
   * for a source without it.
   */
  copyWith: 6,
} as const;
export type PageEncoding = (typeof PageEncoding)[keyof typeof PageEncoding];

const COPY_MIN_CHANGED = 64;
// A delta this large (a rebalanced b-tree page, a few in a hundred commits) is worth trying against each sibling.
const SIBLING_MIN_BYTES = 128;
// Unchanged gaps shorter than this are sent rather than split around (a new range costs a gap and a length, 2-3 bytes).
const MERGE_GAP = 3;

export interface EncodedPage {
  encoding: PageEncoding;
  data: Uint8Array;
}

/**
 * The cheapest encoding of `after` for a receiver that holds `before` (if
 * any); `copy: false` skips the costlier copy/insert deltas. `siblings`:
 * other pages' images the receiver holds at the same base, by page number.
 */
export function encodePageChange(before: Uint8Array | undefined, after: Uint8Array, copy = true, siblings?: ReadonlyMap<number, Uint8Array>): EncodedPage {
  if (!before || before.length !== after.length) return { encoding: PageEncoding.image, data: after };
  const ranges = changedRanges(before, after);
  const patch = encodePatch(after, ranges);
  // A patch is bytes the receiver lacks plus a few headers; a copy/insert
  // delta is smaller only when an insert shifted many bytes. Its commands
  // and checksum take ~30 bytes: below COPY_MIN_CHANGED it saves too little
  // to be worth its CPU time, on the path from a commit to its broadcast.
  if (patch.length <= COPY_MIN_CHANGED || !copy) return { encoding: PageEncoding.patch, data: patch };
  const delta = copyDelta(before, after);
  let best: EncodedPage = delta.length < patch.length ? { encoding: PageEncoding.copy, data: delta } : { encoding: PageEncoding.patch, data: patch };
  if (best.data.length < SIBLING_MIN_BYTES || !siblings) return best;
  for (const [pgno, image] of siblings) {
    if (image === before || image.length !== after.length) continue;
    const data = copyWithDelta(before, pgno, image, after);
    if (data.length < best.data.length) best = { encoding: PageEncoding.copyWith, data };
  }
  return best;
}

/**
 * The new image from a change and the receiver's image, or undefined when
 * that image is missing or is not the one the delta was made from.
 * `sibling` gives the receiver's image of another page at the same base
 * (encoding 6 names one).
 */
export function decodePageChange(
  before: Uint8Array | undefined,
  encoding: number,
  data: Uint8Array,
  sibling: (pgno: number) => Uint8Array | undefined = () => undefined,
): Uint8Array | undefined {
  if (encoding === PageEncoding.image) return data;
  if (!before) return undefined;
  if (encoding === PageEncoding.patch) return applyPatch(before, data);
  if (encoding === PageEncoding.copy) return applyCopy(before, data);
  if (encoding === PageEncoding.copyWith) return applyCopyWith(before, data, sibling);
  return undefined;
}

function copyDelta(before: Uint8Array, after: Uint8Array): Uint8Array {
  const n = after.length;
  let prefix = 0;
  while (prefix < n && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < n - prefix && before[n - 1 - suffix] === after[n - 1 - suffix]) suffix++;
  const out = new DeltaWriter(64);
  out.varuint(prefix);
  out.varuint(suffix);
  out.bytes(encodeCopyDelta(before.subarray(prefix, n - suffix), after.subarray(prefix, n - suffix)));
  return out.result();
}

function applyCopy(before: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  const cursor = { at: 0 };
  const prefix = readVaruint(data, cursor, data.length);
  const suffix = readVaruint(data, cursor, data.length);
  if (prefix < 0 || suffix < 0 || prefix + suffix > before.length) return undefined;
  const out = new Uint8Array(before.length);
  out.set(before.subarray(0, prefix));
  out.set(before.subarray(before.length - suffix), before.length - suffix);
  const middle = before.length - prefix - suffix;
  // The delta is from the middle of `before`, and its result is the middle of `out`.
  if (!applyCopyDelta(before.subarray(prefix, before.length - suffix), data.subarray(cursor.at), out, prefix, middle)) return undefined;
  return out;
}

/**
 * The previous images a commit's pages may be encoded from beside their own
 * (encoding 6): those of b-tree pages that lost cells in it. A rebalance
 * moves cells out of such a page into its siblings; a page whose own cells
 * only grew or changed has nothing to give, and trying every page of a
 * commit as a source cost the coordinator a quarter of its CPU under load.
 */
export function siblingSources(pages: readonly { pgno: number; data: Uint8Array }[], previous: ReadonlyMap<number, Uint8Array>): Map<number, Uint8Array> {
  const sources = new Map<number, Uint8Array>();
  for (const { pgno, data } of pages) {
    const before = previous.get(pgno);
    if (!before) continue;
    const was = cellCount(before, pgno);
    const now = cellCount(data, pgno);
    if (was !== undefined && (now === undefined || now < was)) sources.set(pgno, before);
  }
  return sources;
}

/** The page whose image a change also needs, beside the page's own (encoding 6), if any. */
export function siblingOf(change: { encoding: number; data: Uint8Array }): number | undefined {
  if (change.encoding !== PageEncoding.copyWith) return undefined;
  const head = readVaruint(change.data, { at: 0 }, change.data.length, 5);
  return head > 0 ? (head - 1) / 2 : undefined;
}

function copyWithDelta(before: Uint8Array, pgno: number, sibling: Uint8Array, after: Uint8Array): Uint8Array {
  const out = new DeltaWriter(128);
  out.varuint(pgno * 2 + 1);
  out.bytes(encodeCopyDelta(joined(before, sibling), after));
  return out.result();
}

function applyCopyWith(before: Uint8Array, data: Uint8Array, sibling: (pgno: number) => Uint8Array | undefined): Uint8Array | undefined {
  const cursor = { at: 0 };
  // The page number is at most 2^31 - 1 (SQLite's limit): a 5-byte varuint.
  const head = readVaruint(data, cursor, data.length, 5);
  if (head < 0 || head % 2 !== 1) return undefined;
  const other = sibling((head - 1) / 2);
  if (!other || other === before || other.length !== before.length) return undefined;
  const out = new Uint8Array(before.length);
  return applyCopyDelta(joined(before, other), data.subarray(cursor.at), out, 0, out.length) ? out : undefined;
}

/** Two images end to end: the source of a copyWith delta. */
function joined(own: Uint8Array, sibling: Uint8Array): Uint8Array {
  const source = new Uint8Array(own.length + sibling.length);
  source.set(own);
  source.set(sibling, own.length);
  return source;
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
    // Extend across short unchanged gaps.
    for (let j = end; j < n && j - end < MERGE_GAP; j++) if (before[j] !== after[j]) end = j + 1;
    ranges.push(start, end);
    i = end;
  }
  return ranges;
}

function encodePatch(after: Uint8Array, ranges: readonly number[]): Uint8Array {
  const out = new DeltaWriter(64);
  let end = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const start = ranges[r]!;
    out.varuint(start - end);
    out.varuint(ranges[r + 1]! - start);
    end = ranges[r + 1]!;
    out.bytes(after.subarray(start, end));
  }
  return out.result();
}

function applyPatch(before: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(before);
  const cursor = { at: 0 };
  let end = 0;
  while (cursor.at < data.length) {
    const gap = readVaruint(data, cursor, data.length);
    const length = readVaruint(data, cursor, data.length);
    if (gap < 0 || length < 0) return undefined;
    const start = end + gap;
    end = start + length;
    if (end > out.length || cursor.at + length > data.length) return undefined;
    out.set(data.subarray(cursor.at, cursor.at + length), start);
    cursor.at += length;
  }
  return out;
}

/** The bytes as 32-bit words, when they are aligned and a whole number of them. */
function words(data: Uint8Array): Int32Array | undefined {
  if (data.byteOffset % 4 !== 0 || data.length % 4 !== 0) return undefined;
  return new Int32Array(data.buffer, data.byteOffset, data.length / 4);
}
