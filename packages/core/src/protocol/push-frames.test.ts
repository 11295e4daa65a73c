import { describe, expect, it } from 'vitest';
import { decodeClientMessage } from './codec.js';
import { encodePushFrames } from './push-frames.js';
import { ArgKeys } from './reducer-args.js';
import { ReducerNames } from './reducer-names.js';

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

describe('push frames carry less than the mutations they hold', () => {
  it('name a reducer and an object’s keys once while they repeat, and the server side gets every name and argument back, across frames', () => {
    const all = [
      ...mutations(40, 100),
      { seq: 41, name: 'toggle', args: '{"json":{"id":"t1"}}' },
      { seq: 42, name: 'addTodo', args: '{"json":{"id":"t2"}}' },
      { seq: 43, name: 'addTodo', args: '{"json":{"id":"t3"}}' },
    ];
    const sender = new ReducerNames();
    const senderKeys = new ArgKeys();
    const { frames } = encodePushFrames(all, 1024, sender, senderKeys);
    expect(frames.length).toBeGreaterThan(3);
    const receiver = new ReducerNames();
    const receiverKeys = new ArgKeys();
    const wire: string[] = [];
    const received = frames.flatMap((frame) => {
      const message = decodeClientMessage(frame, { keys: receiverKeys });
      if (message.type !== 'push') throw new Error('expected a push');
      wire.push(...message.mutations.map((m) => m.name));
      return message.mutations.map((m) => ({ ...m, name: receiver.unpack(m.name, m.seq) }));
    });
    expect(received).toEqual(all);
    expect(wire.filter((name) => name !== '')).toEqual(['addTodo', 'toggle', 'addTodo']);
    // The next push on the connection goes on from the last name sent.
    const next = encodePushFrames([{ seq: 44, name: 'addTodo', args: '{"json":{"id":"t4"}}' }], 1024, sender, senderKeys).frames[0]!;
    // Its arguments repeat the keys of t3's: 4 bytes, 0xf2 and a 2-byte short string.
    expect([...next.slice(-5)]).toEqual([4, 0xf2, 0x42, 0x74, 0x34]);
    const message = decodeClientMessage(next, { keys: receiverKeys });
    expect(message.type === 'push' && message.mutations[0]).toEqual({ seq: 44, name: '', args: '{"json":{"id":"t4"}}' });
    // Without the connection's keys, that frame is malformed.
    expect(() => decodeClientMessage(next)).toThrow(expect.objectContaining({ code: 'malformed_frame', message: expect.stringContaining('none came before on this connection') }));
  });

  it('a repeated name with none before it on the connection is refused', () => {
    expect(() => new ReducerNames().unpack('', 7)).toThrow(expect.objectContaining({ code: 'malformed_frame', message: expect.stringContaining('mutation 7') }));
  });

  it('a plain-JSON call costs less than its JSON', () => {
    const args = '{"json":{"id":"t000001"}}';
    const frame = encodePushFrames([{ seq: 1, name: 'toggle', args }], 1024).frames[0]!;
    // tag, version, count, seq, name (1 + 6), args (1 + 13, where '{"id":"t000001"}' is 16):
    // the superjson wrapper stays home, and the object goes as its tag, count, key (1 + 2) and short string (1 + 7).
    expect(frame.length).toBe(2 + 1 + 1 + 7 + 1 + 13);
  });
});
