import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { decodeClientMessage, decodeServerMessage, encodeMessage } from './codec.js';
import { MESSAGE_SCHEMAS, type Message } from './messages.js';
import type { FieldType, StructType } from './schema.js';

const SCHEMAS = Object.values(MESSAGE_SCHEMAS);
const RUNS = { numRuns: 1000 };

// Driven by the schemas, so a new message or field is covered without touching this file.
function valueOf(type: FieldType): fc.Arbitrary<unknown> {
  switch (type.kind) {
    case 'varuint':
      return fc.oneof(fc.constantFrom(0, 127, 128, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat());
    case 'bool':
      return fc.boolean();
    case 'string':
    case 'args':
      return fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
    case 'bytes':
      return fc.uint8Array({ maxLength: 48 });
    case 'array':
      return fc.array(structOf(type.element), { maxLength: 4 });
    case 'struct':
      return structOf(type);
  }
}

function structOf(type: StructType): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(type.names.map((name, i) => [name, valueOf(type.types[i]!)])));
}

const messages: fc.Arbitrary<Message> = fc.oneof(
  ...SCHEMAS.map((schema) => structOf(schema).map((fields) => ({ type: schema.name, ...fields }) as Message)),
);

const decoders = { client: decodeClientMessage, server: decodeServerMessage };

/** Decoding is total; and whatever does decode re-encodes to the very same bytes. */
function expectTotal(bytes: Uint8Array): void {
  for (const decode of Object.values(decoders)) {
    let message: Message;
    try {
      message = decode(bytes);
    } catch (error) {
      if (error instanceof ProtocolError) continue;
      throw new Error(`decoding threw a non-ProtocolError: ${String(error)}`, { cause: error });
    }
    expect(Buffer.from(encodeMessage(message)).equals(bytes)).toBe(true);
  }
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('properties', () => {
  it('(a) every valid message survives encode → decode', () => {
    fc.assert(
      fc.property(messages, (message) => {
        const from = SCHEMAS.find((s) => s.name === message.type)!.from;
        expect(decoders[from](encodeMessage(message))).toEqual(message);
      }),
      RUNS,
    );
  });

  it('(b) arbitrary bytes decode to a message or throw ProtocolError', () => {
    const header = fc.tuple(fc.constantFrom(...SCHEMAS.map((s) => s.tag)), fc.constantFrom(1, 1, 1, 0, 2));
    const plausible = fc.tuple(header, fc.uint8Array({ maxLength: 64 })).map(([[tag, v], rest]) => concat(Uint8Array.of(tag, v), rest));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), plausible), expectTotal), { numRuns: 5000 });
  });

  it('(c) a valid frame, mutated, decodes to a message or throws ProtocolError', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('flip'), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('delete'), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
    );
    fc.assert(
      fc.property(messages, fc.array(edit, { minLength: 1, maxLength: 3 }), (message, edits) => {
        let bytes = encodeMessage(message) as Uint8Array;
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          if (e.kind === 'flip' && at < bytes.length) bytes[at]! ^= e.xor;
          if (e.kind === 'insert') bytes = concat(bytes.subarray(0, at), e.bytes, bytes.subarray(at));
          if (e.kind === 'delete') bytes = concat(bytes.subarray(0, at), bytes.subarray(at + e.count));
        }
        expectTotal(bytes);
      }),
      RUNS,
    );
  });

  it('(c) every single-byte substitution in a valid frame decodes to a message or throws ProtocolError', () => {
    const interesting = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xc0, 0xff];
    fc.assert(
      fc.property(messages, (message) => {
        const bytes = encodeMessage(message);
        for (let at = 0; at < bytes.length; at++) {
          const original = bytes[at]!;
          for (const value of interesting) {
            bytes[at] = value;
            expectTotal(bytes);
          }
          bytes[at] = original;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('(c) a truncated or extended frame is always malformed, since frames are self-delimiting', () => {
    fc.assert(
      fc.property(messages, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (message, cut, extra) => {
        const bytes = encodeMessage(message);
        const decode = decoders[SCHEMAS.find((s) => s.name === message.type)!.from];
        for (const broken of [bytes.subarray(0, cut % bytes.length), concat(bytes, extra)]) {
          expect(() => decode(broken)).toThrow(expect.objectContaining({ name: 'ProtocolError', code: 'malformed_frame' }));
        }
      }),
      RUNS,
    );
  });
});
