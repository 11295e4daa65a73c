import { describe, expect, it } from 'vitest';
import { decodeClientMessage, decodeServerMessage, encodeMessage } from './codec.js';
import type { ClientMessage, Message, ServerMessage } from './messages.js';

const MAX = Number.MAX_SAFE_INTEGER;

function page(pgno: number, size = 4096): { pgno: number; data: Uint8Array } {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + pgno) & 0xff;
  return { pgno, data };
}

function roundTrip(message: Message): Message {
  const frame = encodeMessage(message);
  const fromClient = ['hello', 'push', 'getPages', 'forget', 'setPresence'].includes(message.type);
  const decoded = fromClient ? decodeClientMessage(frame) : decodeServerMessage(frame);
  expect(decoded).toEqual(message);
  return decoded;
}

describe('round trips', () => {
  const client: ClientMessage[] = [
    { type: 'hello', protocolVersion: 1, appVersion: 0, clientId: 'c-1', lastLsn: 0, fromSeq: 0, partial: false, held: [] },
    { type: 'hello', protocolVersion: MAX, appVersion: 0, clientId: '', lastLsn: MAX, fromSeq: MAX, partial: false, held: [] },
    { type: 'push', mutations: [] },
    { type: 'hello', protocolVersion: 3, appVersion: 0, clientId: 'p', lastLsn: 9, fromSeq: 2, partial: true, held: [{ pgno: 1 }, { pgno: 77 }] },
    { type: 'getPages', id: 5, pgnos: [{ pgno: 2 }, { pgno: MAX }] },
    { type: 'forget', pgnos: [{ pgno: 12 }] },
    { type: 'setPresence', states: [{ key: 0, state: '{"name":"Ann","cursor":[3,9]}' }, { key: 63, state: '' }] },
    {
      type: 'push',
      mutations: [
        { seq: 1, name: 'addTodo', args: '{"json":{"title":"héllo wörld 🎉"}}' },
        { seq: MAX, name: '', args: '' },
        { seq: 0, name: '日本語', args: '\uFEFFleading BOM survives' },
      ],
    },
  ];
  const server: ServerMessage[] = [
    { type: 'welcome', protocolVersion: 1, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 0, maxMessageBytes: 1024 },
    { type: 'welcome', protocolVersion: 1, appVersion: 0, schemaVersion: 0, rejections: [], lsn: MAX, maxMessageBytes: 1024 },
    { type: 'snapshot', lsn: 0, pageCount: 0, pages: [], done: false },
    { type: 'pages', id: 5, lsn: 9, pageCount: 80, pages: [page(2)] },
    { type: 'snapshot', lsn: 42, pageCount: 3, pages: [page(1), page(2), page(MAX)], done: true },
    { type: 'commit', lsn: 1, span: 1, pageCount: 1, pages: [], forgotten: [], durableLag: 0 },
    {
      type: 'commit',
      lsn: 128,
      span: 1,
      pageCount: 16384,
      pages: [{ ...page(1), encoding: 1 }, { ...page(2, 0), encoding: 0 }],
      forgotten: [{ pgno: 3 }, { pgno: MAX }],
      durableLag: 128,
    },
    { type: 'rejections', lsn: 128, rejections: [{ clientId: 'c-1', seq: 7, code: 'reducer_threw', message: 'Titel darf nicht leer sein — ✗' }] },
    { type: 'durable', lsn: 0 },
    { type: 'presence', full: true, peers: [] },
    { type: 'presence', full: false, peers: [{ clientId: 'c-1', key: 0, userId: 'ann', state: '{"colour":"#e11"}' }, { clientId: 'c-2', key: 3, userId: '', state: '' }] },
    { type: 'durable', lsn: MAX },
    { type: 'error', code: 'unauthorized', message: '', seq: 0, fatal: true },
    { type: 'error', code: 'bad_args', message: 'args must be an object', seq: MAX, fatal: false },
  ];

  it.each([...client, ...server].map((m) => [m.type, m] as const))('%s', (_, message) => {
    roundTrip(message);
  });

  it('encodes hello byte for byte as documented', () => {
    const frame = encodeMessage({ type: 'hello', protocolVersion: 1, appVersion: 0, clientId: 'ab', lastLsn: 300, fromSeq: 0, partial: false, held: [] });
    expect([...frame]).toEqual([1, 3, 1, 0, 2, 0x61, 0x62, 0xac, 0x02, 0, 0, 0]);
  });

  it('encodes setPresence and presence byte for byte as documented', () => {
    expect([...encodeMessage({ type: 'setPresence', states: [{ key: 1, state: '{}' }] })]).toEqual([5, 1, 1, 1, 2, 0x7b, 0x7d]);
    const frame = encodeMessage({ type: 'presence', full: true, peers: [{ clientId: 'ab', key: 0, userId: '', state: '' }] });
    expect([...frame]).toEqual([23, 1, 1, 1, 2, 0x61, 0x62, 0, 0, 0]);
  });

  it('encodes MAX_SAFE_INTEGER in 8 bytes', () => {
    const frame = encodeMessage({ type: 'welcome', protocolVersion: 0, appVersion: 0, schemaVersion: 0, rejections: [], lsn: MAX, maxMessageBytes: 0 });
    expect([...frame]).toEqual([16, 3, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0]);
  });

  it('returns page data as views into the frame, not copies', () => {
    const frame = encodeMessage({ type: 'commit', lsn: 2, span: 1, pageCount: 1, pages: [{ ...page(1), encoding: 0 }], forgotten: [], durableLag: 1 });
    const decoded = decodeServerMessage(frame);
    if (decoded.type !== 'commit') throw new Error('expected a commit');
    expect(decoded.pages[0]!.data.buffer).toBe(frame.buffer);
  });

  it('decodes a frame that sits at an offset inside a larger buffer', () => {
    const frame = encodeMessage({ type: 'welcome', protocolVersion: 1, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 9, maxMessageBytes: 1024 });
    const pool = new Uint8Array(frame.length + 10);
    pool.set(frame, 5);
    expect(decodeServerMessage(pool.subarray(5, 5 + frame.length))).toEqual({ type: 'welcome', protocolVersion: 1, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 9, maxMessageBytes: 1024 });
  });

  it('writes lone surrogates as U+FFFD, consistently with the precomputed size', () => {
    const frame = encodeMessage({ type: 'error', code: 'x\uD800', message: '\uDC00y', seq: 0, fatal: false });
    expect(decodeServerMessage(frame)).toMatchObject({ code: 'x\uFFFD', message: '\uFFFDy' });
  });
});

describe('encoding refuses values that do not fit the schema', () => {
  const bad: [string, unknown, RegExp][] = [
    ['negative varuint', { type: 'push', mutations: [{ seq: -1, name: 'a', args: '' }] }, /push\.mutations\[0\]\.seq: -1 is not a varuint/],
    ['fractional varuint', { type: 'welcome', protocolVersion: 1.5, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 0, maxMessageBytes: 1024 }, /welcome\.protocolVersion: 1\.5/],
    ['unsafe varuint', { type: 'welcome', protocolVersion: 1, appVersion: 0, schemaVersion: 0, rejections: [], lsn: MAX + 1, maxMessageBytes: 1024 }, /welcome\.lsn: 9007199254740992 is not a varuint/],
    ['missing string', { type: 'hello', protocolVersion: 1, appVersion: 0, lastLsn: 0, fromSeq: 0, partial: false, held: [] }, /hello\.clientId: expected a string, got undefined/],
    ['non-bool', { type: 'error', code: '', message: '', seq: 0, fatal: 1 }, /error\.fatal: expected a boolean/],
    ['non-bytes', { type: 'snapshot', lsn: 0, pageCount: 0, pages: [{ pgno: 1, data: [1] }], done: true }, /snapshot\.pages\[0\]\.data: expected a Uint8Array/],
    ['non-array', { type: 'push', mutations: {} }, /push\.mutations: expected an array/],
    ['unknown type', { type: 'nope' }, /unknown message type "nope"/],
  ];
  it.each(bad)('%s', (_, message, pattern) => {
    expect(() => encodeMessage(message as Message)).toThrow(TypeError);
    expect(() => encodeMessage(message as Message)).toThrow(pattern);
  });
});
