import { deflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { encodeMessage } from '@quire/core/protocol';
import { serverFrameTag } from './frame-tag.js';

describe('serverFrameTag', () => {
  test('reads the tag of plain and deflated frames', () => {
    const pages = encodeMessage({ type: 'pages', id: 7, lsn: 3, pageCount: 9, pages: [{ pgno: 2, data: new Uint8Array(4096).fill(5) }] });
    expect(serverFrameTag(pages)).toBe(20);
    for (const level of [1, 6]) expect(serverFrameTag(Uint8Array.from([0, ...deflateRawSync(pages, { level })]))).toBe(20);
    // Random page contents put the first deflate block's end far from the start.
    const noisy = encodeMessage({ type: 'pages', id: 7, lsn: 3, pageCount: 9, pages: [{ pgno: 2, data: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251) }] });
    expect(serverFrameTag(Uint8Array.from([0, ...deflateRawSync(noisy)]))).toBe(20);
    expect(serverFrameTag(encodeMessage({ type: 'error', code: 'x', message: 'y', seq: 0, fatal: false }))).toBe(19);
  });

  test('undefined for frames that are empty or do not inflate', () => {
    expect(serverFrameTag(new Uint8Array(0))).toBeUndefined();
    expect(serverFrameTag(Uint8Array.of(0, 0xff, 0xff))).toBeUndefined();
  });
});
