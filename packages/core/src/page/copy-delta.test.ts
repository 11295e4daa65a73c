import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCopyDelta, deltaChecksum, encodeCopyDelta } from './copy-delta.js';

/** A b-tree leaf: a header, a cell-pointer array, free space (zeros), cells at the end. */
function leaf(cells: number, seed: number): Uint8Array {
  const page = new Uint8Array(4096);
  page.set([0x0d, 0, 0, 0, cells, 0x0c, 0, 0], 0);
  for (let i = 0; i < cells; i++) page.set([0x0f, (seed + i * 17) & 0xff], 8 + 2 * i);
  for (let i = 4096 - cells * 40; i < 4096; i++) page[i] = (i * 31 + seed) & 0xff;
  return page;
}

/** The result of applyCopyDelta, or undefined where it refuses the delta. */
function applied(source: Uint8Array, delta: Uint8Array, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length + 8);
  return applyCopyDelta(source, delta, out, 4, length) ? out.slice(4, 4 + length) : undefined;
}

describe('copy/insert deltas', () => {
  it('round-trip, in place, for any source and target', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), (source, target) => {
        expect(applied(source, encodeCopyDelta(source, target), target.length)).toEqual(target);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trip edits of a page: changed bytes, inserted and removed runs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
        fc.array(fc.record({ at: fc.nat(4000), insert: fc.uint8Array({ maxLength: 40 }), remove: fc.nat(40) }), { maxLength: 8 }),
        (source, edits) => {
          let target = source.slice();
          for (const { at, insert, remove } of edits) {
            const rest = target.subarray(Math.min(target.length, at + remove));
            const next = new Uint8Array(Math.min(at, target.length) + insert.length + rest.length);
            next.set(target.subarray(0, at));
            next.set(insert, Math.min(at, target.length));
            next.set(rest, Math.min(at, target.length) + insert.length);
            target = next;
          }
          expect(applied(source, encodeCopyDelta(source, target), target.length)).toEqual(target);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('checksums like Fossil: big-endian words summed, a short tail zero-padded', () => {
    expect(deltaChecksum(new Uint8Array([]))).toBe(0);
    expect(deltaChecksum(new Uint8Array([0, 0, 1, 2]))).toBe(0x0102);
    expect(deltaChecksum(new Uint8Array([0, 0, 1, 2, 3]))).toBe(0x03000102);
    expect(deltaChecksum(new Uint8Array(8).fill(0xff))).toBe(0xfffffffe);
  });

  it('describes a cell inserted into a b-tree leaf in a few dozen bytes', () => {
    const before = leaf(40, 1);
    // A pointer inserted in the middle of the array (the rest shifts by two), a new cell below the others.
    const after = before.slice();
    after.copyWithin(8 + 2 * 21, 8 + 2 * 20, 8 + 2 * 40);
    after.set([0x0e, 0x99], 8 + 2 * 20);
    after[4] = 41;
    for (let i = 0; i < 40; i++) after[4096 - 40 * 40 - 40 + i] = (i * 7) & 0xff;
    const delta = encodeCopyDelta(before, after);
    expect(applied(before, delta, after.length)).toEqual(after);
    expect(delta.length).toBeLessThan(70);
  });

  it('refuses a delta for another length, a wrong checksum, a truncated delta and a copy past the source', () => {
    const source = leaf(40, 1);
    const target = leaf(41, 2);
    const delta = encodeCopyDelta(source, target);
    expect(applied(source, delta, target.length)).toEqual(target);
    expect(applied(source, delta, target.length - 1)).toBeUndefined();
    const corrupt = delta.slice();
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
    expect(applied(source, corrupt, target.length)).toBeUndefined();
    expect(applied(source, delta.subarray(0, delta.length - 1), target.length)).toBeUndefined();
    expect(applied(source, delta.subarray(0, 3), target.length)).toBeUndefined();
    expect(applied(source.subarray(0, 100), delta, target.length)).toBeUndefined();
  });
});
