import { describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { defineReducers, validated, type ReducerFn } from './define-reducers.js';

describe('defineReducers', () => {
  it('refuses a reducer named "" (on the wire it means the previous push\'s reducer)', () => {
    expect(() => defineReducers({ '': () => {} })).toThrow(/cannot be named "" \(the empty string\)/);
    expect(Object.keys(defineReducers({ ' ': () => {} }).definitions)).toEqual([' ']);
  });

  it('refuses an async reducer, plain or validated, with async_reducer before any call', () => {
    // Does not compile without the cast; a JavaScript app or a .ts file loaded without a type check gets here.
    const later = (async () => {}) as unknown as ReducerFn<unknown>;
    const schema = { '~standard': { version: 1 as const, vendor: 't', validate: (value: unknown) => ({ value }) } };
    for (const def of [later, validated(schema, later)]) {
      let error: unknown;
      try {
        defineReducers({ ok: () => {}, later: def });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QuireError);
      expect(error).toMatchObject({
        code: 'async_reducer',
        message: 'reducer "later" is an async function — a reducer must be synchronous: remove async/await and do every read and write before returning',
      });
    }
    // A plain function that returns a promise cannot be told apart before it runs (invoke-reducer refuses it then).
    expect(Object.keys(defineReducers({ thenable: (() => Promise.resolve()) as unknown as ReducerFn<unknown> }).definitions)).toEqual(['thenable']);
  });
});
