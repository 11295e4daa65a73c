import { describe, expect, it } from 'vitest';
import { decodeClientMessage } from './codec.js';
import { encodePushFrames } from './push-frames.js';

const mutations = (count: number, argBytes: number) =>
  Array.from({ length: count }, (_, i) => ({ seq: i + 1, name: 'addTodo', args: 'é'.repeat(argBytes / 2) }));

describe('encodePushFrames', () => {
  it('splits a backlog into frames within the limit, in seq order, losing nothing', () => {
    const all = mutations(500, 300);
    const { frames, oversized } = encodePushFrames(all, 4096);
    expect(oversized).toBeUndefined();
    expect(frames.length).toBeGreaterThan(30);
    const seqs: number[] = [];
    for (const frame of frames) {
      expect(frame.length).toBeLessThanOrEqual(4096);
      const message = decodeClientMessage(frame, { maxBytes: 4096 });
      if (message.type !== 'push') throw new Error('expected a push');
      seqs.push(...message.mutations.map((m) => m.seq));
    }
    expect(seqs).toEqual(all.map((m) => m.seq));
  });

  it('packs frames close to the limit rather than one mutation each', () => {
    const { frames } = encodePushFrames(mutations(100, 100), 64 * 1024);
    expect(frames).toHaveLength(1);
  });

  it('stops at a mutation too large for any frame and sends what comes before it', () => {
    const all = [...mutations(3, 100), { seq: 4, name: 'big', args: 'x'.repeat(5000) }, { seq: 5, name: 'after', args: '{}' }];
    const { frames, oversized } = encodePushFrames(all, 4096);
    expect(oversized?.seq).toBe(4);
    expect(frames).toHaveLength(1);
    const message = decodeClientMessage(frames[0]!);
    expect(message.type === 'push' && message.mutations.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});
