import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { decodeArgs, encodeArgs } from './args-codec.js';

function outcome(run: () => string): { json: string } | { error: string } {
  try {
    return { json: run() };
  } catch (error) {
    return { error: String(error) };
  }
}

describe('reducer arguments on the wire', () => {
  it('are exactly what superjson writes, for plain JSON and for everything else', () => {
    const anything = fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: false });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), anything), (value) => {
        // superjson refuses some values (a "__proto__" key): so must encodeArgs.
        expect(outcome(() => encodeArgs(value))).toEqual(outcome(() => superjson.stringify(value)));
      }),
      { numRuns: 5000 },
    );
  });

  it('decode to the value they were made from', () => {
    const shared = { n: 1 };
    for (const value of [{ id: 'a', title: 't', done: false, n: 1.5, list: [1, null, 'x'] }, { when: new Date(5), big: 10n, none: undefined }, { a: shared, b: shared }, -0, Number.NaN]) {
      expect(decodeArgs(encodeArgs(value), 'r')).toEqual(value);
    }
  });
});
