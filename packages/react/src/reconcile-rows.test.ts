import { describe, expect, test } from 'vitest';
import { reconcileRows } from './reconcile-rows.js';

type Todo = { id: string; title: string; done: number };
const todo = (id: string, title = id, done = 0): Todo => ({ id, title, done });

describe('reconcileRows', () => {
  test('an equal result is the previous array itself', () => {
    const first = reconcileRows(undefined, [todo('a'), todo('b')]);
    expect(reconcileRows(first, [todo('a'), todo('b')])).toBe(first);
  });

  test('unchanged rows keep their object, changed rows are new', () => {
    const first = reconcileRows(undefined, [todo('a'), todo('b'), todo('c')]);
    const next = reconcileRows(first, [todo('a'), todo('b', 'B'), todo('c')]);
    expect(next).not.toBe(first);
    expect(next).toEqual([todo('a'), todo('b', 'B'), todo('c')]);
    expect(next[0]).toBe(first[0]);
    expect(next[1]).not.toBe(first[1]);
    expect(next[2]).toBe(first[2]);
  });

  test('rows are matched by position unless a rowKey is given', () => {
    const first = reconcileRows(undefined, [todo('b'), todo('c')]);
    const shifted = [todo('a'), todo('b'), todo('c')];
    const byPosition = reconcileRows(first, shifted);
    expect(byPosition[1]).not.toBe(first[0]);
    const byKey = reconcileRows(first, shifted, 'id');
    expect(byKey).toEqual(shifted);
    expect(byKey[1]).toBe(first[0]);
    expect(byKey[2]).toBe(first[1]);
  });

  test('a row with the same key but other values is new', () => {
    const first = reconcileRows(undefined, [todo('a'), todo('b')], 'id');
    const next = reconcileRows(first, [todo('b', 'b', 1), todo('a')], 'id');
    expect(next[0]).not.toBe(first[1]);
    expect(next[1]).toBe(first[0]);
  });

  test('shrinking and growing', () => {
    const first = reconcileRows(undefined, [todo('a'), todo('b')]);
    const shorter = reconcileRows(first, [todo('a')]);
    expect(shorter).toEqual([todo('a')]);
    expect(shorter[0]).toBe(first[0]);
    const empty = reconcileRows(shorter, []);
    expect(empty).toEqual([]);
    expect(reconcileRows(empty, [])).toBe(empty);
  });

  test('blobs compare by bytes', () => {
    const first = reconcileRows(undefined, [{ id: 'a', data: new Uint8Array([1, 2]) }]);
    expect(reconcileRows(first, [{ id: 'a', data: new Uint8Array([1, 2]) }])).toBe(first);
    expect(reconcileRows(first, [{ id: 'a', data: new Uint8Array([1, 3]) }])).not.toBe(first);
  });

  test('the result and its rows are frozen; the input rows are left alone', () => {
    const input = [todo('a')];
    const rows = reconcileRows(undefined, input);
    expect(Object.isFrozen(rows)).toBe(true);
    expect(Object.isFrozen(rows[0])).toBe(true);
    expect(Object.isFrozen(input[0])).toBe(false);
    const next = reconcileRows(rows, [todo('a'), todo('b')]);
    expect(Object.isFrozen(next)).toBe(true);
    expect(Object.isFrozen(next[1])).toBe(true);
  });
  test('a row object the client kept at the same index is taken without reading it', () => {
    const input = [todo('a'), todo('b')];
    const first = reconcileRows(undefined, input);
    // Reading this row's values (to compare them) would throw.
    const untouchable = input[1]!;
    Object.defineProperty(untouchable, 'title', { enumerable: true, get: () => expect.fail('the kept row was compared') });
    const changed = todo('a', 'A');
    const next = reconcileRows(first, [changed, untouchable], undefined, input);
    expect(next[0]).toEqual(changed);
    expect(next[1]).toBe(first[1]);
    expect(reconcileRows(next, [changed, untouchable], undefined, [changed, untouchable])).toBe(next);
  });

  test('a kept row object at another index is compared by value', () => {
    const input = [todo('a'), todo('b')];
    const first = reconcileRows(undefined, input, 'id');
    const swapped = reconcileRows(first, [input[1]!, input[0]!], 'id', input);
    expect(swapped).toEqual([todo('b'), todo('a')]);
    expect(swapped[0]).toBe(first[1]);
    expect(swapped[1]).toBe(first[0]);
  });
});
