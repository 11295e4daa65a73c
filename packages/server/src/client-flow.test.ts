import { describe, expect, test } from 'vitest';
import type { Mutation } from '@quire/core/protocol';
import { ClientFlow } from './client-flow.js';

const m = (seq: number, args = '{}'): Mutation => ({ seq, name: 'add', args });

/** A flow over a fake `last_seq`, which the test moves as the "coordinator" applies mutations. */
function setup(limits = { maxQueuedMutations: 3, maxQueuedBytes: 1000 }, lastSeq = 0) {
  const state = { lastSeq };
  return { flow: new ClientFlow(limits, () => state.lastSeq), state };
}

/** The seqs `flow` admits from `push`, in order, up to the first it holds back. */
function admitted(flow: ClientFlow, push: readonly Mutation[]): number[] {
  const seqs: number[] = [];
  for (const x of push) {
    if (!flow.admit(x)) break;
    seqs.push(x.seq);
  }
  return seqs;
}

describe('ClientFlow', () => {
  test('admits at most maxQueuedMutations, then more as they are applied', () => {
    const { flow, state } = setup();
    const push = [1, 2, 3, 4, 5].map((s) => m(s));
    expect(admitted(flow, push)).toEqual([1, 2, 3]);
    expect(flow.queued).toBe(3);
    expect(flow.fits(push[3]!)).toBe(false);
    state.lastSeq = 2;
    expect(flow.fits(push[3]!)).toBe(true);
    expect(admitted(flow, push.slice(3))).toEqual([4, 5]);
    expect(flow.queued).toBe(3);
  });

  test('counts bytes of names and arguments; one mutation larger than the limit passes alone', () => {
    const { flow, state } = setup({ maxQueuedMutations: 100, maxQueuedBytes: 20 });
    const push = [m(1, 'x'.repeat(10)), m(2, 'x'.repeat(10)), m(3, 'é'.repeat(50))];
    expect(admitted(flow, push)).toEqual([1]); // 13 bytes; 13 + 13 > 20
    expect(flow.queuedBytes).toBe(13);
    state.lastSeq = 1;
    expect(admitted(flow, push.slice(1))).toEqual([2]); // then 103 bytes do not fit next to it
    state.lastSeq = 2;
    expect(admitted(flow, push.slice(2))).toEqual([3]); // alone, they do
    expect(flow.queuedBytes).toBe(103);
  });

  test('a mutation held back is not counted', () => {
    const { flow } = setup({ maxQueuedMutations: 1, maxQueuedBytes: 1000 });
    expect(flow.admit(m(1))).toBe(true);
    expect(flow.admit(m(2))).toBe(false);
    expect({ queued: flow.queued, bytes: flow.queuedBytes }).toEqual({ queued: 1, bytes: 5 });
  });

  test('rejected mutations count as applied: last_seq moves past them all the same', () => {
    const { flow, state } = setup({ maxQueuedMutations: 2, maxQueuedBytes: 1000 });
    admitted(flow, [m(1), m(2)]);
    state.lastSeq = 2;
    flow.refresh();
    expect(flow.queued).toBe(0);
    expect(flow.queuedBytes).toBe(0);
  });
});
