import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { decodeServerMessage, encodeMessage, encodeServerFrame } from './codec.js';
import { compressFrame, inflateFrame } from './frame-compression.js';
import type { ServerMessage } from './messages.js';

const zeros = (n: number) => new Uint8Array(n);

describe('deflated frames', () => {
  it('a commit of mostly-zero page images shrinks to a small fraction, and decodes to the same message', () => {
    const image = zeros(4096);
    image.set([1, 2, 3, 4, 5], 3000);
    const commit: ServerMessage = {
      type: 'commit',
      lsn: 5,
      span: 1,
      pageCount: 9,
      pages: [1, 2, 3].map((pgno) => ({ pgno, encoding: 0, data: image })),
      forgotten: [],
      durableLag: 1,
    };
    const plain = encodeMessage(commit);
    const wire = encodeServerFrame(commit);
    expect(wire[0]).toBe(0);
    expect(wire.length).toBeLessThan(plain.length / 50);
    expect(decodeServerMessage(wire)).toEqual(decodeServerMessage(plain));
  });

  it('small or incompressible frames go as they are', () => {
    const welcome: ServerMessage = { type: 'welcome', protocolVersion: 4, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 1, maxMessageBytes: 1024 };
    expect(encodeServerFrame(welcome)).toEqual(encodeMessage(welcome));
    let x = 2_463_534_242;
    const noise = new Uint8Array(4096).map(() => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 0xff;
    });
    const pages: ServerMessage = { type: 'pages', id: 1, lsn: 1, pageCount: 1, pages: [{ pgno: 1, data: noise }] };
    expect(encodeServerFrame(pages)).toEqual(encodeMessage(pages));
  });

  it('inflating stops at the limit instead of allocating what a bomb asks for', () => {
    const bomb = compressFrame(zeros(1 << 18));
    expect(bomb.length).toBeLessThan(1024);
    expect(() => inflateFrame(bomb, 64 * 1024)).toThrow(ProtocolError);
    expect(inflateFrame(bomb, 1 << 18).length).toBe(1 << 18);
  });
});
