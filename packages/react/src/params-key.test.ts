import { describe, expect, test } from 'vitest';
import { paramsKey } from './params-key.js';

describe('paramsKey', () => {
  test('equal values give equal keys, whatever the objects', () => {
    expect(paramsKey([1, 'a', null, 2n, new Uint8Array([1, 255])])).toBe(paramsKey([1, 'a', null, 2n, new Uint8Array([1, 255])]));
    expect(paramsKey({ b: 1, a: 'x' })).toBe(paramsKey({ a: 'x', b: 1 }));
    expect(paramsKey(undefined)).toBe(paramsKey([]));
  });

  test('values that bind the same give the same key', () => {
    expect(paramsKey([undefined])).toBe(paramsKey([null]));
    expect(paramsKey([true, false])).toBe(paramsKey([1, 0]));
  });

  test('different values give different keys', () => {
    const lists = [[1], ['1'], [1n], [null], [Number.NaN], [new Uint8Array([1])], [new Uint8Array([1, 0])], ['a,b'], ['a', 'b'], [1, 2], [2, 1]];
    const keys = lists.map((list) => paramsKey(list));
    expect(new Set(keys).size).toBe(lists.length);
    expect(paramsKey({ a: 1 })).not.toBe(paramsKey({ b: 1 }));
    expect(paramsKey({ a: 1 })).not.toBe(paramsKey([1]));
  });
});
