import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { MESSAGE_SCHEMAS, PROTOCOL_VERSION, encodeMessage, type Message, type Mutation } from '@quire/core/protocol';
import type { WireFrame } from './fuzz-model.js';
import { FUZZ_REDUCER_NAMES } from './fuzz-reducers.js';

/** What a frame recipe knows about the connection it is sent on when it is made. */
export interface FrameContext {
  clientId: string;
  /** The server already has this connection's hello. */
  helloDone: boolean;
  /** The seq the server expects next from this client. */
  nextSeq: number;
}

/** A frame made at send time from the connection's state, so a seq gap or a resend is one. */
export interface Recipe {
  kind: string;
  make(ctx: FrameContext): WireFrame;
}

// ---------------------------------------------------------------- valid frames

/** superjson text for plain JSON values, as `client.mutate` sends them. */
export const superjsonArgs = (value: unknown): string => JSON.stringify({ json: value });

export function helloFrame(clientId: string, options: { partial?: boolean; lastLsn?: number; fromSeq?: number; held?: number[] } = {}): Uint8Array {
  return encodeMessage({
    type: 'hello',
    protocolVersion: PROTOCOL_VERSION,
    appVersion: 0,
    clientId,
    lastLsn: options.lastLsn ?? 0,
    fromSeq: options.fromSeq ?? 0,
    partial: options.partial ?? false,
    held: (options.held ?? []).map((pgno) => ({ pgno })),
  });
}

/** A mutation that applies: a note in this client's namespace, or a bump of its own counter. */
export function validMutation(clientId: string, seq: number, body = 'b'): Mutation {
  return seq % 3 === 0
    ? { seq, name: 'bump', args: superjsonArgs({ id: clientId }) }
    : { seq, name: 'note', args: superjsonArgs({ id: `${clientId}:${seq}`, body }) };
}

export const pushFrame = (mutations: Mutation[]): Uint8Array => encodeMessage({ type: 'push', mutations });

// ------------------------------------------------------------- generators

// Any code point, lone surrogates included (fast-check's unit 'binary' takes a second to build its tables).
const codePoint = fc.integer({ min: 0, max: 0x10ffff }).map((cp) => (cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)));
const binary = (maxLength: number) => fc.array(codePoint, { maxLength }).map((cps) => cps.join(''));
const binaryText = binary(140);

const pgno = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1024, 4097, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER) },
);
const requestId = fc.oneof(fc.nat({ max: 1000 }), fc.constantFrom(0, 2 ** 32, 2 ** 40));

/** Byte-level edits of a valid frame. */
type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; keep: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'duplicate'; at: number; length: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x7f, 0x80, 0xc0, 0xed, 0xff), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 24 }) }),
);

export function applyEdits(frame: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(frame);
  for (const e of edits) {
    const at = 'at' in e ? e.at % (bytes.length + 1) : 0;
    switch (e.op) {
      case 'flip':
        if (at < bytes.length) bytes[at]! ^= 1 << e.bit;
        break;
      case 'set':
        if (at < bytes.length) bytes[at] = e.value;
        break;
      case 'insert':
        bytes = concat(bytes.subarray(0, at), e.bytes, bytes.subarray(at));
        break;
      case 'delete':
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + e.count));
        break;
      case 'truncate':
        bytes = bytes.subarray(0, e.keep % Math.max(1, bytes.length));
        break;
      case 'extend':
        bytes = concat(bytes, e.bytes);
        break;
      case 'duplicate': {
        const end = Math.min(bytes.length, at + e.length);
        bytes = concat(bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end));
        break;
      }
    }
  }
  return bytes;
}

/** Reducer arguments no honest client sends: wrong types, broken superjson, hostile shapes, edge numbers. */
export const hostileArgs: fc.Arbitrary<{ label: string; args: string }> = fc.oneof(
  fc.constantFrom(
    ...[
      ['empty', ''],
      ['not JSON', '{not json'],
      ['JSON null', 'null'],
      ['an array', '[]'],
      ['a string', '"x"'],
      ['a huge number', '1e309'],
      ['plain JSON, not superjson', JSON.stringify({ id: 'x', body: 'y' })],
      ['json: null', superjsonArgs(null)],
      ['a number id', superjsonArgs({ id: 5, body: 'y' })],
      ['an object id', superjsonArgs({ id: { toString: 'x' }, body: 'y' })],
      ['an array id', superjsonArgs({ id: ['a'], body: 'y' })],
      ['-0, 1e308 and 2^53+1', superjsonArgs({ id: -0, body: 1e308, n: 2 ** 53 + 1 })],
      ['the smallest subnormal', '{"json":{"id":5e-324,"body":"x"}}'],
      ['__proto__ key', '{"json":{"__proto__":{"polluted":"yes","id":"p","body":"p"}}}'],
      ['constructor.prototype key', '{"json":{"constructor":{"prototype":{"polluted":"yes"}},"id":"c","body":"c"}}'],
      ['meta path through __proto__', JSON.stringify({ json: { id: 'm', body: 'm' }, meta: { values: { '__proto__.polluted': ['bigint'] } } })],
      ['meta path through constructor.prototype', JSON.stringify({ json: { id: 'm', body: 'm' }, meta: { values: { 'constructor.prototype.polluted': ['bigint'] } } })],
      ['meta referential equality into __proto__', JSON.stringify({ json: { id: 'r', body: 'r', a: {} }, meta: { referentialEqualities: { a: ['__proto__.polluted'] } } })],
      ['a bigint with 400 digits', JSON.stringify({ json: { id: '9'.repeat(400), body: 'b' }, meta: { values: { id: ['bigint'] } } })],
      ['a bigint that is not a number', JSON.stringify({ json: { id: 'twelve', body: 'b' }, meta: { values: { id: ['bigint'] } } })],
      ['an invalid Date', JSON.stringify({ json: { id: 'garbage', body: 'b' }, meta: { values: { id: ['Date'] } } })],
      ['NaN and Infinity', JSON.stringify({ json: { id: 'NaN', body: 'Infinity' }, meta: { values: { id: ['number'], body: ['number'] } } })],
      ['an unknown transform', JSON.stringify({ json: { id: 'x', body: 'y' }, meta: { values: { id: ['custom', 'nope'] } } })],
      ['a map that is not one', JSON.stringify({ json: { id: 7, body: 'y' }, meta: { values: { id: ['map'] } } })],
      ['meta that is not an object', JSON.stringify({ json: { id: 'x', body: 'y' }, meta: 'values' })],
      ['undefined args', JSON.stringify({ json: null, meta: { values: ['undefined'] } })],
    ].map(([label, args]) => ({ label: label!, args: args! })),
  ),
  // Built when read: plans are made ahead, and these are up to 60 KB each.
  fc.integer({ min: 1, max: 30_000 }).map((depth) => ({
    label: `arrays nested ${depth} deep`,
    get args() {
      return `{"json":{"id":${'['.repeat(depth)}${']'.repeat(depth)},"body":"d"}}`;
    },
  })),
  fc.integer({ min: 1, max: 8_000 }).map((depth) => ({
    label: `objects nested ${depth} deep`,
    get args() {
      return `{"json":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    },
  })),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ label: 'random JSON', args: superjsonArgs(value) })),
  binary(64).map((args) => ({ label: 'random text', args })),
);

/** Reducer names no reducer has, including ones every object inherits. */
const unknownName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'init ', 'NOTE', '', 'note\u0000', 'définitions'),
  binary(40),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'x'.repeat(n)),
);

const clientMessageOf = (ctx: FrameContext, base: 'hello' | 'push' | 'getPages' | 'forget' | 'setPresence'): Uint8Array => {
  if (base === 'setPresence') return encodeMessage({ type: 'setPresence', states: [{ key: 0, state: '{"name":"fuzz"}' }] });
  if (base === 'hello') return helloFrame(ctx.clientId, { partial: true, lastLsn: 3, fromSeq: 1, held: [1, 2, 3] });
  if (base === 'push') return pushFrame([validMutation(ctx.clientId, ctx.nextSeq, 'mutated'), validMutation(ctx.clientId, ctx.nextSeq + 1, 'mutated')]);
  if (base === 'getPages') return encodeMessage({ type: 'getPages', id: 5, pgnos: [{ pgno: 1 }, { pgno: 2 }, { pgno: 9 }] });
  return encodeMessage({ type: 'forget', pgnos: [{ pgno: 2 }, { pgno: 3 }] });
};

const recipe = (kind: string, make: (ctx: FrameContext) => Omit<WireFrame, 'label'> & { label?: string }): Recipe => ({
  kind,
  make: (ctx) => {
    const frame = make(ctx);
    return { ...frame, label: `${kind}${frame.label ? `: ${frame.label}` : ''}` };
  },
});

/** Random bytes, some behind a real tag and version so decoding gets past the header. */
const randomBytes: fc.Arbitrary<Recipe> = fc
  .tuple(fc.uint8Array({ maxLength: 300 }), fc.option(fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 16, 17, 18, 19, 20, 21, 22, 255), fc.constantFrom(0, 1, 2, 3))))
  .map(([bytes, header]) => recipe('random bytes', () => ({ bytes: header ? concat(Uint8Array.of(...header), bytes) : bytes })));

/** A valid client frame for this connection, with bits flipped, bytes set, cut, extended or a field repeated. */
const mutated: fc.Arbitrary<Recipe> = fc
  .tuple(fc.constantFrom('hello' as const, 'push' as const, 'getPages' as const, 'forget' as const), fc.array(edit, { minLength: 1, maxLength: 4 }))
  .map(([base, edits]) => recipe(`mutated ${base}`, (ctx) => ({ bytes: applyEdits(clientMessageOf(ctx, base), edits), label: edits.map((e) => e.op).join('+') })));

/** Every server message type, with arbitrary contents, sent by a client. */
const serverMessage: fc.Arbitrary<Recipe> = fc
  .oneof(
    fc.record({ type: fc.constant('welcome' as const), protocolVersion: fc.nat(9), appVersion: fc.nat(9), schemaVersion: fc.nat(9), rejections: fc.constant([]), lsn: fc.nat(), maxMessageBytes: fc.nat() }),
    fc.record({ type: fc.constant('snapshot' as const), lsn: fc.nat(), pageCount: fc.nat(), pages: fc.constant([]), done: fc.boolean() }),
    fc.record({ type: fc.constant('commit' as const), lsn: fc.nat(), span: fc.nat(), pageCount: fc.nat(), pages: fc.constant([]), forgotten: fc.constant([]), durableLag: fc.nat() }),
    fc.record({ type: fc.constant('rejections' as const), lsn: fc.nat(), rejections: fc.constant([]) }),
    fc.record({ type: fc.constant('durable' as const), lsn: fc.nat() }),
    fc.record({ type: fc.constant('pages' as const), id: fc.nat(), lsn: fc.nat(), pageCount: fc.nat(), pages: fc.constant([]) }),
    fc.record({ type: fc.constant('error' as const), code: fc.string(), message: fc.string(), seq: fc.nat(), fatal: fc.boolean() }),
  )
  .map((message) => recipe('wrong direction', () => ({ bytes: encodeMessage(message as Message), label: message.type })));

const CLIENT_SCHEMAS = Object.values(MESSAGE_SCHEMAS).filter((s) => s.from === 'client');

/**
 * Bad frames a session survives: seq gaps and resends, unknown reducers,
 * hostile arguments, junk page requests (with up to `maxExtraPages` more
 * page numbers now and then), junk forgets and presence states.
 */
export function nonFatal(maxExtraPages: number): fc.Arbitrary<Recipe> {
  return fc.oneof(
    fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER - 1)).map((ahead) =>
      recipe('seq gap', (ctx) => ({ bytes: pushFrame([validMutation(ctx.clientId, Math.min(ctx.nextSeq + ahead, Number.MAX_SAFE_INTEGER))]), label: `+${ahead}` })),
    ),
    fc.constant(recipe('seq 0', (ctx) => ({ bytes: pushFrame([validMutation(ctx.clientId, 0)]) }))),
    fc.constant(recipe('resend', (ctx) => ({ bytes: pushFrame([validMutation(ctx.clientId, Math.max(1, ctx.nextSeq - 1), 'resent')]) }))),
    fc.integer({ min: 2, max: 50 }).map((skip) =>
      recipe('gap inside a push', (ctx) => ({ bytes: pushFrame([0, 1, skip, skip + 1].map((d) => validMutation(ctx.clientId, ctx.nextSeq + d))) })),
    ),
    fc.tuple(unknownName, fc.integer({ min: 1, max: 3 })).map(([name, count]) =>
      recipe('unknown reducer', (ctx) => ({
        bytes: pushFrame(Array.from({ length: count }, (_, i) => ({ seq: ctx.nextSeq + i, name, args: superjsonArgs({ id: 'u' }) }))),
        label: JSON.stringify(name.slice(0, 20)),
      })),
    ),
    fc.tuple(fc.constantFrom(...FUZZ_REDUCER_NAMES), hostileArgs).map(([name, hostile]) =>
      recipe('hostile arguments', (ctx) => ({ bytes: pushFrame([{ seq: ctx.nextSeq, name, args: hostile.args }]), label: `${name}(${hostile.label})` })),
    ),
    fc.tuple(requestId, fc.array(pgno, { maxLength: 40 }), fc.integer({ min: 0, max: maxExtraPages })).map(([id, pgnos, extra]) =>
      recipe('junk page request', () => ({ bytes: encodeMessage({ type: 'getPages', id, pgnos: [...pgnos, ...Array.from({ length: extra % 5 === 0 ? extra : 0 }, (_, i) => i + 1)].map((p) => ({ pgno: p })) }) })),
    ),
    fc.array(pgno, { maxLength: 60 }).map((pgnos) => recipe('junk forget', () => ({ bytes: encodeMessage({ type: 'forget', pgnos: pgnos.map((p) => ({ pgno: p })) }) }))),
    fc.array(fc.record({ key: fc.integer({ min: 0, max: 63 }), state: fc.oneof(fc.constant(''), fc.json({ maxDepth: 1 }), fc.nat({ max: 4000 }).map((n) => JSON.stringify('p'.repeat(n)))) }), { maxLength: 4 }).map((states) =>
      recipe('presence', () => ({ bytes: encodeMessage({ type: 'setPresence', states }), label: states.map((p) => p.key).join(',') })),
    ),
  );
}

/** Decodable in shape, wrong in meaning: versions, counts, lengths, encodings, sequence numbers, reducers, arguments. */
const wrongButValid: fc.Arbitrary<Recipe> = fc.oneof(
  serverMessage,
  fc.tuple(fc.constantFrom(...CLIENT_SCHEMAS.map((s) => s.name)), fc.integer({ min: 0, max: 255 })).map(([name, version]) =>
    recipe('wrong message version', (ctx) => {
      const bytes = clientMessageOf(ctx, name as 'hello' | 'setPresence');
      bytes[1] = version === MESSAGE_SCHEMAS[name as 'hello'].version ? version + 1 : version;
      return { bytes, label: `${name} v${bytes[1]}` };
    }),
  ),
  fc.constantFrom(0, 1, 2, 3, 5, 127, 128, 2 ** 32, Number.MAX_SAFE_INTEGER).map((protocolVersion) =>
    recipe('wrong protocol version', (ctx) => ({ bytes: encodeMessage({ type: 'hello', protocolVersion, appVersion: 0, clientId: ctx.clientId, lastLsn: 0, fromSeq: 0, partial: false, held: [] }), label: String(protocolVersion) })),
  ),
  fc.oneof(fc.constantFrom('', ' ', '__server', 'a/b', '../x', 'ünï', 'x'.repeat(129), 'a\u0000b'), binaryText).map((clientId) =>
    recipe('invalid client id', () => ({ bytes: encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId, lastLsn: 0, fromSeq: 0, partial: false, held: [] }) })),
  ),
  fc.boolean().map((partial) => recipe('second hello', (ctx) => ({ bytes: helloFrame(ctx.clientId, { partial }) }))),
  fc.tuple(fc.constantFrom(2, 3, 4), fc.constantFrom([0xff, 0xff, 0xff, 0x7f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x01]), fc.uint8Array({ maxLength: 12 })).map(([tag, count, rest]) =>
    recipe('huge array count', () => ({ bytes: concat(Uint8Array.of(tag, 1), tag === 3 ? Uint8Array.of(1) : new Uint8Array(0), Uint8Array.from(count), rest) })),
  ),
  fc.constantFrom([0xff, 0xff, 0x03], [0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]).map((length) =>
    recipe('huge string length', (ctx) => ({ bytes: concat(Uint8Array.of(2, 1, 1), varuint(ctx.nextSeq), Uint8Array.from(length), ascii('note')) })),
  ),
  fc.constantFrom([0x81, 0x00], [0x80, 0x80, 0x00], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]).map((seq) =>
    recipe('overlong or oversized varuint', () => ({ bytes: concat(Uint8Array.of(2, 1, 1), Uint8Array.from(seq), Uint8Array.of(4), ascii('note'), Uint8Array.of(0)) })),
  ),
  fc.integer({ min: 2, max: 255 }).map((flag) =>
    recipe('bool that is neither 0 nor 1', (ctx) => {
      const bytes = helloFrame(ctx.clientId);
      bytes[bytes.length - 2] = flag;
      return { bytes };
    }),
  ),
  fc.constantFrom([0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff]).map((bad) =>
    recipe('invalid UTF-8 in a reducer name', (ctx) => ({ bytes: concat(Uint8Array.of(2, 1, 1), varuint(ctx.nextSeq), varuint(bad.length), Uint8Array.from(bad), Uint8Array.of(0)) })),
  ),
  nonFatal(3000),
);

/** Tag 0 from a client: a deflated copy of a valid frame, or noise. */
const deflated: fc.Arbitrary<Recipe> = fc
  .tuple(fc.constantFrom('hello' as const, 'push' as const, 'getPages' as const, 'forget' as const), fc.option(fc.uint8Array({ maxLength: 64 })))
  .map(([base, noise]) =>
    recipe('deflated frame', (ctx) => ({ bytes: concat(Uint8Array.of(0), noise ?? deflateRawSync(clientMessageOf(ctx, base))), label: noise ? 'noise' : base })),
  );

const textFrame: fc.Arbitrary<Recipe> = fc.oneof(
  fc.string({ maxLength: 80 }).map((s) => recipe('text frame', () => ({ bytes: new TextEncoder().encode(s), text: true }))),
  fc.constant(recipe('text frame', (ctx) => ({ bytes: new TextEncoder().encode(JSON.stringify({ type: 'hello', clientId: ctx.clientId })), text: true, label: 'JSON' }))),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => recipe('text frame', () => ({ bytes: concat(bytes, Uint8Array.of(0xff)), text: true, label: 'invalid UTF-8' }))),
);

/** One bad frame, of any kind. */
export const badFrame: fc.Arbitrary<Recipe> = fc.oneof(
  { weight: 3, arbitrary: randomBytes },
  { weight: 6, arbitrary: mutated },
  { weight: 8, arbitrary: wrongButValid },
  { weight: 1, arbitrary: deflated },
  { weight: 1, arbitrary: textFrame },
);

/** Frames over maxMessageBytes, some far enough over that the WebSocket layer cuts them. */
export function oversized(maxMessageBytes: number): fc.Arbitrary<Recipe> {
  return fc.oneof(fc.integer({ min: maxMessageBytes + 1, max: maxMessageBytes * 4 }), fc.integer({ min: maxMessageBytes * 4 + 1, max: maxMessageBytes * 5 })).map((size) =>
    recipe('oversized', (ctx) => ({ bytes: pushFrame([{ seq: ctx.nextSeq, name: 'note', args: superjsonArgs({ id: 'big', body: 'z'.repeat(size) }) }]), label: `${size} bytes of body` })),
  );
}

// ------------------------------------------------------- WebSocket framing

/**
 * WebSocket framing that breaks RFC 6455 around a Quire frame: reserved
 * opcodes and RSV bits, unmasked client frames, fragments that never start
 * or never end, control frames too long or fragmented, lengths that lie,
 * bad close codes, or bits flipped anywhere. `frame(payload, options)` is
 * the correct framing (see raw-websocket-frames.ts).
 */
export function brokenWebSocketFraming(
  frame: (payload: Uint8Array, options?: { opcode?: number; fin?: boolean; mask?: boolean }) => Uint8Array,
): fc.Arbitrary<{ label: string; bytes: (payload: Uint8Array) => Uint8Array }> {
  const variant = (label: string, bytes: (payload: Uint8Array) => Uint8Array) => ({ label, bytes });
  return fc.oneof(
    fc.constantFrom(0, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15).map((opcode) => variant(`opcode ${opcode}`, (p) => frame(p, { opcode }))),
    fc.constantFrom(0x40, 0x20, 0x10, 0x70).map((rsv) => variant(`RSV bits ${rsv.toString(16)}`, (p) => withByte(frame(p), 0, (b) => b | rsv))),
    fc.constant(variant('unmasked', (p) => frame(p, { mask: false }))),
    fc.constant(variant('a fragment, then a new message', (p) => concat(frame(p, { fin: false }), frame(p)))),
    fc.constant(variant('a continuation with nothing to continue', (p) => frame(p, { opcode: 0 }))),
    fc.constant(variant('a fragmented ping', (p) => frame(p.subarray(0, 10), { opcode: 9, fin: false }))),
    fc.constant(variant('a ping of 126 bytes', () => frame(new Uint8Array(126), { opcode: 9 }))),
    fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 2999, 5000).map((code) => variant(`close code ${code}`, () => frame(Uint8Array.of(code >> 8, code & 0xff), { opcode: 8 }))),
    fc.constant(variant('a close with a 1-byte body', () => frame(Uint8Array.of(3), { opcode: 8 }))),
    fc.constant(variant('a close reason that is not UTF-8', () => frame(Uint8Array.of(0x03, 0xe8, 0xff, 0xfe), { opcode: 8 }))),
    fc.integer({ min: 1, max: 100 }).map((more) => variant(`a length ${more} bytes too long`, (p) => withByte(frame(p), 1, (b) => (b & 0x80) | Math.min(125, (b & 0x7f) + more)))),
    fc.integer({ min: 1, max: 10 }).map((less) => variant(`a length ${less} bytes too short`, (p) => withByte(frame(p), 1, (b) => (b & 0x80) | Math.max(0, (b & 0x7f) - less)))),
    fc.constantFrom([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0, 0, 0, 0, 1], [0, 0x20, 0, 0, 0, 0, 0, 0]).map((length) =>
      variant('a 64-bit length past any limit', () => concat(Uint8Array.of(0x82, 0x80 | 127), Uint8Array.from(length), new Uint8Array(4), new Uint8Array(16)))),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((noise) => variant('noise instead of a frame', () => noise)),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 3 }).map((flips) =>
      variant('bits flipped', (p) => {
        const bytes = Uint8Array.from(frame(p));
        for (const [at, bit] of flips) bytes[at % bytes.length]! ^= 1 << bit;
        return bytes;
      }),
    ),
  );
}

function withByte(bytes: Uint8Array, at: number, change: (b: number) => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[at] = change(out[at]!);
  return out;
}

// ---------------------------------------------------------------- bytes

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function varuint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

