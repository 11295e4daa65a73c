import { describe, expect, test } from 'vitest';
import { PAGE_SIZE } from '../page/page.js';
import { PrefetchPlanner, newReadHistory } from './prefetch.js';

/** An interior table page (type 5) with the given children: cells point at all but the last. */
function interior(children: number[]): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE);
  const view = new DataView(page.buffer);
  page[0] = 5;
  const cells = children.slice(0, -1);
  view.setUint16(3, cells.length);
  view.setUint32(8, children.at(-1)!);
  cells.forEach((child, i) => {
    const offset = 2000 + i * 8;
    view.setUint16(12 + i * 2, offset);
    view.setUint32(offset, child);
    page[offset + 4] = i; // the key, a one-byte varint
  });
  return page;
}

const none = () => false;

describe('PrefetchPlanner', () => {
  test('a lookup fetches just its misses, one per level', () => {
    const planner = new PrefetchPlanner(true);
    planner.learn([{ pgno: 2, data: interior([10, 11, 12, 13]) }]);
    const history = newReadHistory();
    expect(planner.plan([2], history, none, 100)).toEqual([2]);
    expect(planner.plan([12], history, none, 100)).toEqual([12]);
  });

  test('a second miss to the right of the first under one parent is a scan: the next siblings come along, in growing batches', () => {
    const planner = new PrefetchPlanner(true);
    const leaves = Array.from({ length: 100 }, (_, i) => 200 + i);
    planner.learn([{ pgno: 2, data: interior(leaves) }]);
    const history = newReadHistory();
    expect(planner.plan([200], history, none, 400)).toEqual([200]);
    const second = planner.plan([201], history, none, 400);
    expect(second).toEqual([201, ...leaves.slice(2, 18)]);
    const held = new Set(second);
    const third = planner.plan([218], history, (p) => held.has(p), 400);
    expect(third).toEqual([218, ...leaves.slice(19, 51)]);
  });

  test('without b-tree knowledge, a constant stride predicts the next pages; prefetch off fetches only misses', () => {
    const planner = new PrefetchPlanner(true);
    const history = newReadHistory();
    planner.plan([50], history, none, 1000);
    planner.plan([53], history, none, 1000);
    expect(planner.plan([56], history, none, 1000).slice(0, 4)).toEqual([56, 59, 62, 65]);

    const off = new PrefetchPlanner(false);
    off.learn([{ pgno: 2, data: interior([10, 11, 12, 13]) }]);
    const offHistory = newReadHistory();
    off.plan([10], offHistory, none, 100);
    expect(off.plan([11], offHistory, none, 100)).toEqual([11]);
  });
});

describe('PrefetchPlanner for small documents', () => {
  test('a document within the whole-fetch size comes whole at its first miss; a larger one as before', () => {
    const small = new PrefetchPlanner(true, 64);
    const held = new Set([1, 2, 3]);
    const plan = small.plan([7], newReadHistory(), (p) => held.has(p), 40);
    expect(plan.sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i + 4));

    const large = new PrefetchPlanner(true, 64);
    large.learn([{ pgno: 2, data: interior([10, 11, 12, 13]) }]);
    expect(large.plan([12], newReadHistory(), none, 65)).toEqual([12]);
  });
});
