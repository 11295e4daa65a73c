import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageEncoding, decodePageChange, encodePageChange, xorPages } from './page-delta.js';

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

  it('a byte flipped in place goes as XOR; a shifted pointer array goes as copy/insert, in a few dozen bytes', () => {
    const before = varied(0);
    const flipped = before.slice();
    flipped[2000] = flipped[2000]! ^ 1;
    expect(encodePageChange(before, flipped).encoding).toBe(PageEncoding.xor);

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
    expect(decodePageChange(before, encoding, new Uint8Array([0xff, 0xff, 0xff, 0xff, ...data.subarray(4)]))).toBeUndefined();
    expect(decodePageChange(before, encoding, data.subarray(0, 3))).toBeUndefined();
    expect(decodePageChange(undefined, PageEncoding.image, after)).toBe(after);
    expect(encodePageChange(undefined, after)).toEqual({ encoding: PageEncoding.image, data: after });
  });

  it('xorPages: applied twice gives the page back, and refuses pages of different sizes', () => {
    const a = page(3);
    const b = page(5);
    expect(xorPages(a, xorPages(a, b))).toEqual(b);
    expect(() => xorPages(new Uint8Array(4), new Uint8Array(8))).toThrow(RangeError);
  });
});

describe('xorPages on unaligned views', () => {
  it('gives the same bytes whether the pages are word-aligned or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (a, b) => {
        const shifted = new Uint8Array(65).subarray(1);
        shifted.set(b);
        expect(xorPages(a, shifted)).toEqual(xorPages(a, b));
        expect(xorPages(a, xorPages(a, shifted))).toEqual(b);
      }),
    );
  });
});
