import { describe, expect, it } from 'vitest';
import { ProtocolError, type ProtocolErrorCode } from '../errors.js';
import { deflateSync } from 'fflate';
import { decodeClientMessage, decodeServerMessage, encodeMessage } from './codec.js';
import { compressFrame } from './frame-compression.js';

const frame = (...bytes: number[]) => new Uint8Array(bytes);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

function expectError(run: () => unknown, code: ProtocolErrorCode, message: string | RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(code);
  if (typeof message === 'string') expect((thrown as ProtocolError).message).toBe(message);
  else expect((thrown as ProtocolError).message).toMatch(message);
}

// welcome = tag 16, version 2, protocolVersion varuint, rejections (empty array), lsn varuint, maxMessageBytes varuint
const welcome = (...lsn: number[]) => frame(16, 3, 1, 0, 0, 0, ...lsn);

describe('varuint', () => {
  it('accepts the largest safe integer', () => {
    expect(decodeServerMessage(welcome(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00))).toMatchObject({ lsn: Number.MAX_SAFE_INTEGER });
  });
  it('refuses overlong encodings', () => {
    expectError(() => decodeServerMessage(welcome(0x80, 0x00)), 'malformed_frame', 'welcome.lsn: overlong varuint (ends in a zero byte)');
    expectError(() => decodeServerMessage(welcome(0x81, 0x80, 0x00)), 'malformed_frame', /welcome\.lsn: overlong/);
  });
  it('refuses values above MAX_SAFE_INTEGER', () => {
    const twoTo53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
    expectError(() => decodeServerMessage(welcome(...twoTo53)), 'malformed_frame', 'welcome.lsn: varuint exceeds Number.MAX_SAFE_INTEGER');
    expectError(() => decodeServerMessage(welcome(...Array(8).fill(0xff), 0x01)), 'malformed_frame', 'welcome.lsn: varuint longer than 8 bytes');
  });
  it('refuses a varuint cut off by the end of the frame', () => {
    expectError(() => decodeServerMessage(welcome(0x80)), 'malformed_frame', 'welcome.lsn: varuint runs past the end of the frame');
    expectError(() => decodeServerMessage(frame(16, 3, 1, 0, 0, 0)), 'malformed_frame', 'welcome.lsn: varuint runs past the end of the frame');
  });
});

describe('lengths and counts', () => {
  it('refuses a string longer than the rest of the frame, naming the field', () => {
    // push, 4 mutations (args: 1 byte, the small integer 1); the 4th has name length 900 with 12 bytes after it
    const ok = [1, 1, ...ascii('a'), 1, 1];
    const bytes = frame(2, 3, 4, ...ok, ...ok, ...ok, 9, 0x84, 0x07, ...Array(12).fill(0x61));
    expectError(() => decodeClientMessage(bytes), 'malformed_frame', 'push.mutations[3].name: string length 900 exceeds the 12 bytes left in the frame');
  });
  it('refuses bytes longer than the rest of the frame', () => {
    const bytes = frame(17, 1, 0, 1, 1, 5, 100, 1, 2, 3);
    expectError(() => decodeServerMessage(bytes), 'malformed_frame', 'snapshot.pages[0].data: bytes length 100 exceeds the 3 bytes left in the frame');
  });
  it('refuses an array count that cannot fit, before allocating anything', () => {
    const huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    expectError(() => decodeClientMessage(frame(2, 3, ...huge)), 'malformed_frame', /^push\.mutations: array count 9007199254740991 needs at least .* but only 0 are left/);
    // each rejection takes at least 4 bytes, so 2 cannot fit in 7
    expectError(() => decodeServerMessage(frame(21, 1, 9, 2, 0, 0, 0, 0, 0, 0, 0)), 'malformed_frame', /rejections\.rejections: array count 2 needs at least 8 bytes but only 7/);
  });
  it('refuses trailing bytes after the last field', () => {
    expectError(() => decodeServerMessage(frame(16, 3, 1, 0, 0, 0, 0, 0, 0, 0)), 'malformed_frame', 'welcome: 2 trailing bytes after the last field');
  });
});

describe('field values', () => {
  it.each([
    ['lone continuation byte', [0x80]],
    ['overlong NUL', [0xc0, 0x80]],
    ['encoded surrogate', [0xed, 0xa0, 0x80]],
    ['truncated sequence', [0xe2, 0x82]],
  ])('refuses invalid UTF-8: %s', (_, utf8) => {
    const bytes = frame(1, 3, 1, 0, utf8.length, ...utf8, 0, 0, 0);
    expectError(() => decodeClientMessage(bytes), 'malformed_frame', /^hello\.clientId: string of \d bytes is not valid UTF-8$/);
  });
  it('refuses a bool that is neither 0 nor 1', () => {
    expectError(() => decodeServerMessage(frame(19, 1, 0, 0, 0, 2)), 'malformed_frame', 'error.fatal: bool byte 2 is neither 0 nor 1');
    expectError(() => decodeServerMessage(frame(19, 1, 0, 0, 0)), 'malformed_frame', 'error.fatal: bool runs past the end of the frame');
  });
});

describe('framing', () => {
  it('refuses a known tag with another version', () => {
    expectError(() => decodeClientMessage(frame(1, 1, 1, 0, 0, 0)), 'unsupported_version', 'hello version 1 is not supported (this build speaks hello version 3)');
    expectError(() => decodeServerMessage(frame(18, 0)), 'unsupported_version', /commit version 0/);
  });
  it.each([6, 15, 24, 255])('refuses unknown tag %i', (tag) => {
    expectError(() => decodeServerMessage(frame(tag, 1)), 'unknown_message', `unknown message tag ${tag}`);
    expectError(() => decodeClientMessage(frame(tag)), 'unknown_message', `unknown message tag ${tag}`);
  });
  it('refuses deflated frames from clients, bad deflate streams, and nested deflated frames', () => {
    expectError(() => decodeClientMessage(frame(0, 1, 2, 3)), 'unexpected_message', 'clients may not send deflated frames');
    expectError(() => decodeServerMessage(frame(0, 0xff, 0xff, 0xff)), 'malformed_frame', /^a deflated frame does not inflate/);
    const inner = compressFrame(encodeMessage({ type: 'error', code: 'x', message: 'y'.repeat(1000), seq: 0, fatal: false }));
    expect(inner[0]).toBe(0);
    expectError(() => decodeServerMessage(new Uint8Array([0, ...deflateSync(inner)])), 'malformed_frame', 'a deflated frame holds another deflated frame');
  });
  it('refuses empty and header-only frames', () => {
    expectError(() => decodeServerMessage(frame()), 'malformed_frame', 'empty frame');
    expectError(() => decodeServerMessage(frame(16)), 'malformed_frame', 'welcome: frame ends before the version byte');
  });
  it('refuses input that is not a Uint8Array', () => {
    expectError(() => decodeServerMessage('hi' as unknown as Uint8Array), 'malformed_frame', /Uint8Array/);
  });
  it('enforces maxBytes on the whole frame', () => {
    const bytes = encodeMessage({ type: 'hello', protocolVersion: 1, appVersion: 0, clientId: 'abc', lastLsn: 0, fromSeq: 0, partial: false, held: [] });
    expect(bytes.length).toBe(12);
    expect(decodeClientMessage(bytes, { maxBytes: 12 })).toMatchObject({ type: 'hello' });
    expectError(() => decodeClientMessage(bytes, { maxBytes: 11 }), 'message_too_large', 'frame of 12 bytes exceeds the limit of 11');
  });
  it('refuses a valid message from the wrong side', () => {
    const welcomeFrame = encodeMessage({ type: 'welcome', protocolVersion: 1, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 3, maxMessageBytes: 1024 });
    expectError(() => decodeClientMessage(welcomeFrame), 'unexpected_message', "received server message 'welcome' where a client message was expected");
    const pushFrame = encodeMessage({ type: 'push', mutations: [] });
    expectError(() => decodeServerMessage(pushFrame), 'unexpected_message', /client message 'push'/);
  });
  it('reports a malformed frame from the wrong side as malformed', () => {
    expectError(() => decodeClientMessage(frame(16, 3, 1, 0, 0, 0)), 'malformed_frame', /^welcome\.lsn/);
  });
});
