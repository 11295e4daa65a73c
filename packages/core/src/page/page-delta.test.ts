import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageEncoding, decodePageChange, encodePageChange, siblingOf, siblingSources } from './page-delta.js';

const page = (fill = 0) => new Uint8Array(4096).fill(fill);
/** A page whose first bytes vary, like a cell-pointer array. */
function varied(seed: number): Uint8Array {
  const out = page();
  for (let i = 0; i < 600; i++) out[8 + i] = (i * 37 + seed) & 0xff;
  return out;
}

/** A b-tree-like edit: insert two bytes at `at` in the first `area` bytes (a cell-pointer array), write `cell` near the end. */
function insertCell(before: Uint8Array, at: number, area: number, cell: Uint8Array): Uint8Array {
  const after = before.slice();
  after.copyWithin(at + 2, at, area);
  after.set([0xab, 0xcd], at);
  after.set(cell, 4096 - 200 - cell.length);
  return after;
}

describe('page deltas', () => {
  it('any change decodes back to the new image, whichever encoding is chosen', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
        fc.array(fc.record({ at: fc.nat(4095), value: fc.nat(255) }), { maxLength: 300 }),
        (before, edits) => {
          const after = before.slice();
          for (const { at, value } of edits) after[at] = value;
          const { encoding, data } = encodePageChange(before, after);
          expect(decodePageChange(before, encoding, data)).toEqual(after);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bytes changed in place go as a patch of just those bytes; a shifted pointer array goes as copy/insert, in a few dozen bytes', () => {
    const before = varied(0);
    const flipped = before.slice();
    flipped[2000] = flipped[2000]! ^ 1;
    // Two changes closer than a range's gap and length share one range.
    flipped[2003] = flipped[2003]! ^ 1;
    flipped[4095] = flipped[4095]! ^ 1;
    const patch = encodePageChange(before, flipped);
    // Varuint gap (2000 = D0 0F), length, bytes; then the gap from 2004 to 4095 (2091 = AB 10), length 1.
    expect(patch).toEqual({ encoding: PageEncoding.patch, data: new Uint8Array([0xd0, 0x0f, 4, ...flipped.subarray(2000, 2004), 0xab, 0x10, 1, flipped[4095]!]) });
    expect(decodePageChange(before, patch.encoding, patch.data)).toEqual(flipped);
    expect(encodePageChange(before, before.slice())).toEqual({ encoding: PageEncoding.patch, data: new Uint8Array(0) });

    const inserted = insertCell(before, 10, 608, new Uint8Array(40).fill(7));
    const change = encodePageChange(before, inserted);
    expect(change.encoding).toBe(PageEncoding.copy);
    expect(change.data.length).toBeLessThan(80);
    expect(decodePageChange(before, change.encoding, change.data)).toEqual(inserted);
  });

  it('without the image it was made from, a delta does not decode (the checksum catches a wrong one)', () => {
    const before = varied(0);
    const after = insertCell(before, 10, 600, new Uint8Array(40).fill(7));
    const { encoding, data } = encodePageChange(before, after);
    expect(encoding).toBe(PageEncoding.copy);
    expect(decodePageChange(undefined, encoding, data)).toBeUndefined();
    expect(decodePageChange(varied(1), encoding, data)).toBeUndefined();
    // A header whose unchanged prefix and suffix overlap, or no header at all.
    expect(decodePageChange(before, encoding, new Uint8Array([0x80, 0x20, 0x80, 0x20, ...data.subarray(2)]))).toBeUndefined();
    expect(decodePageChange(before, encoding, data.subarray(0, 1))).toBeUndefined();
    expect(decodePageChange(undefined, PageEncoding.image, after)).toBe(after);
    expect(encodePageChange(undefined, after)).toEqual({ encoding: PageEncoding.image, data: after });
  });

  it('a patch that runs past the page or its own end does not decode', () => {
    const before = varied(0);
    // Past the page (offset 4095, length 2), past its own end, cut inside a varuint, an overlong varuint.
    expect(decodePageChange(before, PageEncoding.patch, new Uint8Array([0xff, 0x1f, 2, 1, 2]))).toBeUndefined();
    expect(decodePageChange(before, PageEncoding.patch, new Uint8Array([0, 3, 1, 2]))).toBeUndefined();
    expect(decodePageChange(before, PageEncoding.patch, new Uint8Array([0x80]))).toBeUndefined();
    expect(decodePageChange(before, PageEncoding.patch, new Uint8Array([0x80, 0x00, 0]))).toBeUndefined();
    expect(decodePageChange(undefined, PageEncoding.patch, new Uint8Array(0))).toBeUndefined();
  });
});

/** Random-looking bytes, like cells of a b-tree page. */
function noise(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Two siblings rebalanced: `right` takes the last `moved` bytes of cells from `left`, as SQLite moves cells between siblings. */
function rebalance(left: Uint8Array, right: Uint8Array, moved: number): { left: Uint8Array; right: Uint8Array } {
  const newLeft = left.slice();
  newLeft.fill(0, 4096 - moved);
  const newRight = right.slice();
  newRight.copyWithin(100, 100 + moved, 4096);
  newRight.set(left.subarray(4096 - moved), 4096 - moved);
  newRight.set([1, 2, 3, 4], 0);
  return { left: newLeft, right: newRight };
}

describe('deltas from a sibling (encoding 6)', () => {
  const left = noise(1, 4096);
  const right = noise(2, 4096);
  const { right: after } = rebalance(left, right, 1500);
  const siblings = new Map([
    [9, left],
    [10, right],
  ]);
  const image = (pgno: number) => siblings.get(pgno);

  it('send a rebalanced page as a delta from its old image and its sibling’s, in a few dozen bytes', () => {
    const alone = encodePageChange(right, after);
    expect(alone.data.length).toBeGreaterThan(1500);
    const change = encodePageChange(right, after, true, siblings);
    expect(change.encoding).toBe(PageEncoding.copyWith);
    expect(change.data.length).toBeLessThan(60);
    expect(siblingOf(change)).toBe(9);
    expect(decodePageChange(right, change.encoding, change.data, image)).toEqual(after);
    // No siblings to draw on, or copy deltas off: as before.
    expect(encodePageChange(right, after, false, siblings).encoding).toBe(PageEncoding.patch);
    expect(siblingOf(alone)).toBeUndefined();
  });

  it('any change with any siblings decodes back to the new image', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.integer({ min: 0, max: 4000 }), fc.array(fc.record({ at: fc.nat(4095), value: fc.nat(255) }), { maxLength: 50 }), (seed, moved, edits) => {
        const a = noise(seed, 4096);
        const b = noise(seed + 1, 4096);
        const next = rebalance(a, b, moved).right;
        for (const { at, value } of edits) next[at] = value;
        const pages = new Map([
          [3, a],
          [4, b],
        ]);
        const { encoding, data } = encodePageChange(b, next, true, pages);
        expect(decodePageChange(b, encoding, data, (pgno) => pages.get(pgno))).toEqual(next);
      }),
      { numRuns: 100 },
    );
  });

  it('do not decode without the sibling they name, from a wrong one, or when malformed', () => {
    const { encoding, data } = encodePageChange(right, after, true, siblings);
    expect(decodePageChange(right, encoding, data)).toBeUndefined();
    expect(decodePageChange(right, encoding, data, () => noise(3, 4096))).toBeUndefined();
    expect(decodePageChange(right, encoding, data, () => right)).toBeUndefined();
    expect(decodePageChange(right, encoding, data, () => new Uint8Array(100))).toBeUndefined();
    // The own image must be in the source (odd head), the head must fit 5 bytes, the delta must be whole.
    expect(decodePageChange(right, encoding, Uint8Array.of(18, ...data.subarray(1)), image)).toBeUndefined();
    expect(decodePageChange(right, encoding, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), image)).toBeUndefined();
    expect(decodePageChange(right, encoding, data.subarray(0, data.length - 1), image)).toBeUndefined();
    expect(decodePageChange(right, encoding, new Uint8Array(0), image)).toBeUndefined();
    expect(decodePageChange(undefined, encoding, data, image)).toBeUndefined();
  });
});

describe('sibling sources', () => {
  /** A b-tree leaf image (table leaf, or page 1 with its 100-byte header first) holding `cells` cells. */
  const leaf = (cells: number, pgno = 5) => {
    const page = noise(cells, 4096);
    const h = pgno === 1 ? 100 : 0;
    page[h] = 13;
    page[h + 3] = cells >> 8;
    page[h + 4] = cells & 0xff;
    return page;
  };

  it('are the pages that lost cells in the commit, with their previous images', () => {
    const previous = new Map([
      [1, leaf(3, 1)],
      [5, leaf(40)],
      [6, leaf(20)],
      [7, leaf(12)],
      [8, leaf(9)],
    ]);
    const freelistTrunk = new Uint8Array(4096);
    const pages = [
      { pgno: 1, data: leaf(2, 1) }, // page 1 lost a cell: its header is past the database header
      { pgno: 5, data: leaf(25) }, // gave 15 cells to a sibling
      { pgno: 6, data: leaf(35) }, // received them
      { pgno: 7, data: leaf(12) }, // a row changed in place
      { pgno: 8, data: freelistTrunk }, // emptied and freed
      { pgno: 9, data: leaf(4) }, // new: nothing to give
    ];
    expect([...siblingSources(pages, previous)]).toEqual([
      [1, previous.get(1)],
      [5, previous.get(5)],
      [8, previous.get(8)],
    ]);
  });

  it('are none for a commit that only added cells', () => {
    const previous = new Map([[5, leaf(40)]]);
    expect(siblingSources([{ pgno: 5, data: leaf(50) }], previous).size).toBe(0);
  });
});

describe('patches on unaligned views', () => {
  it('give the same bytes whether the pages are word-aligned or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(3), (a, b, offset) => {
        const shifted = new Uint8Array(64 + offset).subarray(offset);
        shifted.set(b);
        const aligned = encodePageChange(a, b, false);
        expect(encodePageChange(a, shifted, false)).toEqual(aligned);
        expect(decodePageChange(a, aligned.encoding, aligned.data)).toEqual(b);
      }),
    );
  });
});
