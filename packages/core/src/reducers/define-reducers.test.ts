import { describe, expect, it } from 'vitest';
import { defineReducers } from './define-reducers.js';

describe('defineReducers', () => {
  it('refuses a reducer named "" (on the wire it means the previous push\'s reducer)', () => {
    expect(() => defineReducers({ '': () => {} })).toThrow(/cannot be named "" \(the empty string\)/);
    expect(Object.keys(defineReducers({ ' ': () => {} }).definitions)).toEqual([' ']);
  });
});
