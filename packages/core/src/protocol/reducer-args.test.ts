import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { encodeArgs } from '../reducers/args-codec.js';
import { Fault } from './fault.js';
import { ArgKeys, packArgs, packArgsWith, unpackArgs } from './reducer-args.js';

const bytes = (...b: number[]) => new Uint8Array(b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

function expectFault(wire: Uint8Array, reason: string | RegExp, keys?: ArgKeys): void {
  let thrown: unknown;
  try {
    unpackArgs(wire, keys);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Fault);
  expect((thrown as Fault).reason).toMatch(reason);
}

describe('packed reducer arguments', () => {
  it('give back any well-formed text exactly', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme' }),
          fc.json().map((j) => `{"json":${j}}`),
          fc.jsonValue().map((v) => `{"json":${JSON.stringify(v)}}`),
          fc.constantFrom('', '{"json":', '{"json":}', '\u0000', '{"json":{"json":1}}', '{"json":\u0000}', '{"json":-0}', '{"json":1.50}', '{"json":{"b":1,"1":2}}', '{"json":{"a":1,"a":2}}'),
        ),
        (text) => {
          expect(unpackArgs(packArgs(text))).toBe(text);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('give back the arguments of any call, plain JSON or not', () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withMap: true, withSet: true, withBigInt: true }), (value) => {
        let text: string;
        try {
          text = encodeArgs(value);
        } catch {
          // superjson refuses some keys (`prototype`, …): mutate() refuses such a call before it is sent.
          fc.pre(false);
          return;
        }
        expect(superjson.parse(unpackArgs(packArgs(text)))).toEqual(superjson.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('send plain JSON without quotes or punctuation, byte for byte as documented', () => {
    // docs/PROTOCOL.md's example, then the next call on the connection.
    expect([...packArgs('{"json":{"id":"t1"}}')]).toEqual([0x88, 0x01, 0x02, 0x69, 0x64, 0x42, 0x74, 0x31]);
    const connection = new ArgKeys();
    packArgsWith('{"json":{"id":"t1"}}', connection);
    expect([...packArgsWith('{"json":{"id":"t2"}}', connection)]).toEqual([0xf2, 0x42, 0x74, 0x32]);
    // An object of 2 members: key "id" (2 bytes), a 7-byte short string; key "n" (1 byte), the integer 5.
    expect([...packArgs('{"json":{"id":"t000001","n":5}}')]).toEqual([0x88, 2, 2, ...ascii('id'), 0x47, ...ascii('t000001'), 1, ...ascii('n'), 5]);
    // null, false, true, 64 (varuint), -3, 1.5 (float64), a 64-byte string, an array.
    expect([...packArgs('{"json":[null,false,true,64,-3,1.5]}')]).toEqual([0x87, 6, 0x80, 0x81, 0x82, 0x84, 64, 0x85, 3, 0x86, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect([...packArgs(`{"json":"${'x'.repeat(64)}"}`)]).toEqual([0x83, 64, ...ascii('x'.repeat(64))]);
    // superjson with meta: the inside as text; anything else: the text as it is.
    expect([...packArgs('{"json":null,"meta":{"v":1}}')]).toEqual([0xf1, ...ascii('null,"meta":{"v":1}')]);
    expect([...packArgs('not superjson')]).toEqual([0xf0, ...ascii('not superjson')]);
    // Text JSON.stringify would not write back the same goes as text too.
    expect(packArgs('{"json":{"b":1,"1":2}}')[0]).toBe(0xf1);
    expect(packArgs('{"json": 1}')[0]).toBe(0xf1);
  });

  it('go as text when nested deeper than the binary form allows', () => {
    const deep = `{"json":${'['.repeat(40)}${']'.repeat(40)}}`;
    expect(packArgs(deep)[0]).toBe(0xf1);
    expect(unpackArgs(packArgs(deep))).toBe(deep);
  });

  it('refuse malformed or non-canonical bytes with a Fault, never a crash', () => {
    expectFault(bytes(), 'empty arguments');
    expectFault(bytes(0xff), /unknown byte 0xff/);
    expectFault(bytes(0x87, 1, 0x89, 0), /unknown byte 0x89/);
    expectFault(bytes(1, 2), /1 trailing bytes/);
    expectFault(bytes(0x45, 0x61), /runs past the end/);
    expectFault(bytes(0x83, 3, 0x61, 0x62, 0x63), /short form/);
    expectFault(bytes(0x84, 5), /one-byte form/);
    expectFault(bytes(0x85, 0), /negative zero/);
    expectFault(bytes(0x86, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), /not a float form/);
    expectFault(bytes(0x86, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), /not a float form/);
    expectFault(bytes(0x86, 0x3f), /float64 runs past/);
    expectFault(bytes(0x87, 0x7f), /array count 127/);
    expectFault(bytes(0x88, 2, 1, 0x61, 1, 1, 0x61, 2), /appears twice/);
    expectFault(bytes(0x88, 1, 1, 0x31, 1), /integer-like key/);
    expectFault(bytes(0x41, 0xc0), /not valid UTF-8/);
    expectFault(Uint8Array.from([...Array(40).fill(0x87).flatMap((b) => [b, 1]), 0x80]), /deeper than 32/);
    expectFault(bytes(0xf0, ...ascii('{"json":1}')), /sent as raw text/);
    expectFault(bytes(0xf1, ...ascii('1')), /has a binary form/);
  });

  it('decode arbitrary bytes to text that packs back to the same bytes, or refuse them', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 24 }).map((b) => Uint8Array.of(0x88, 1, 1, 0x61, ...b))), (wire) => {
        let text: string;
        try {
          text = unpackArgs(wire);
        } catch (error) {
          expect(error).toBeInstanceOf(Fault);
          return;
        }
        expect([...packArgs(text)]).toEqual([...wire]);
      }),
      { numRuns: 5000 },
    );
  });

  it('on one connection, name an object’s keys once while they repeat; the other side gets every text back', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ id: fc.string(), title: fc.string() }).map((v) => `{"json":${JSON.stringify(v)}}`),
            fc.record({ id: fc.string() }).map((v) => `{"json":${JSON.stringify(v)}}`),
            fc.jsonValue().map((v) => `{"json":${JSON.stringify(v)}}`),
            fc.string(),
          ),
          { maxLength: 12 },
        ),
        (texts) => {
          const sender = new ArgKeys();
          const receiver = new ArgKeys();
          for (const text of texts) expect(unpackArgs(packArgsWith(text, sender), receiver)).toBe(text);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('send a repeated object as 0xf2 and its values, byte for byte as documented', () => {
    const keys = new ArgKeys();
    expect([...packArgsWith('{"json":{"id":"t1","done":true}}', keys)]).toEqual([0x88, 2, 2, ...ascii('id'), 0x42, ...ascii('t1'), 4, ...ascii('done'), 0x82]);
    expect([...packArgsWith('{"json":{"id":"t2","done":false}}', keys)]).toEqual([0xf2, 0x42, ...ascii('t2'), 0x81]);
    // Other keys, or the same in another order, go whole and are remembered instead.
    expect(packArgsWith('{"json":{"done":false,"id":"t2"}}', keys)[0]).toBe(0x88);
    expect(packArgsWith('{"json":{"done":true,"id":"t3"}}', keys)[0]).toBe(0xf2);
    // Arguments that are not an object leave the keys as they were.
    expect(packArgsWith('{"json":7}', keys)).toEqual(Uint8Array.of(7));
    expect(packArgsWith('{"json":{"done":true,"id":"t4"}}', keys)[0]).toBe(0xf2);
  });

  it('refuse repeated keys with none before them, and values that do not match the keys, with a Fault', () => {
    expectFault(bytes(0xf2, 0x41, 0x61), /none came before on this connection/);
    const keys = new ArgKeys();
    unpackArgs(packArgsWith('{"json":{"a":1,"b":2}}', new ArgKeys()), keys);
    expectFault(bytes(0xf2, 1), /runs past the end/, keys);
    expectFault(bytes(0xf2, 1, 2, 3), /1 trailing bytes/, keys);
    expectFault(bytes(0xf2, 1, 0x86, 0), /float64 runs past/, keys);
    expect(unpackArgs(bytes(0xf2, 1, 0x41, 0x78), keys)).toBe('{"json":{"a":1,"b":"x"}}');
  });
});

