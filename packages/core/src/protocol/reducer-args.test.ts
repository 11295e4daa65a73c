import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { encodeArgs } from '../reducers/args-codec.js';
import { packArgs, unpackArgs } from './reducer-args.js';

describe('packed reducer arguments', () => {
  it('give back any text exactly', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json().map((j) => `{"json":${j}}`), fc.constantFrom('{"json":', '{"json":}', '\u0000', '{"json":{"json":1}}', '{"json":\u0000}')), (text) => {
        expect(unpackArgs(packArgs(text))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('give back the arguments of any call, plain JSON or not', () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withMap: true, withSet: true, withBigInt: true }), (value) => {
        const text = encodeArgs(value);
        expect(superjson.parse(unpackArgs(packArgs(text)))).toEqual(superjson.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it("drop plain JSON's superjson wrapper, and only that", () => {
    expect(packArgs('{"json":{"id":"t1"}}')).toBe('{"id":"t1"}');
    expect(packArgs('{"json":null,"meta":{"values":["undefined"],"v":1}}')).toBe('null,"meta":{"values":["undefined"],"v":1}');
    // Text that would read as another form is sent whole.
    expect(packArgs('{"json":{"json":1}}')).toBe('{"json":{"json":1}}');
    expect(packArgs('not superjson')).toBe('\u0000not superjson');
  });
});
