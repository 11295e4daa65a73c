import { describe, expect, test } from 'vitest';
import type { Mutation } from '@quire/core/protocol';
import { ClientFlow } from './client-flow.js';

const m = (seq: number, args = '{}'): Mutation => ({ seq, name: 'add', args });
const seqs = (ms: readonly Mutation[]) => ms.map((x) => x.seq);

/** A flow over a fake `last_seq`, which the test moves as the "coordinator" applies mutations. */
function setup(limits = { maxQueuedMutations: 3, maxQueuedBytes: 1000 }, lastSeq = 0) {
  const state = { lastSeq };
  return { flow: new ClientFlow(limits, () => state.lastSeq), state };
}

describe('ClientFlow', () => {
  test('hands over at most maxQueuedMutations, then more as they are applied', () => {
    const { flow, state } = setup();
    const push = [1, 2, 3, 4, 5].map((s) => m(s));
    const first = flow.take(push, 0);
    expect({ seqs: seqs(first.mutations), next: first.next, end: first.end }).toEqual({ seqs: [1, 2, 3], next: 3, end: false });
    expect(flow.queued).toBe(3);
    expect(flow.fits(push[3]!)).toBe(false);
    state.lastSeq = 2;
    expect(flow.fits(push[3]!)).toBe(true);
    const second = flow.take(push, first.next);
    expect({ seqs: seqs(second.mutations), end: second.end }).toEqual({ seqs: [4, 5], end: true });
    expect(flow.queued).toBe(3);
  });

  test('counts bytes of names and arguments; one mutation larger than the limit passes alone', () => {
    const { flow, state } = setup({ maxQueuedMutations: 100, maxQueuedBytes: 20 });
    const push = [m(1, 'x'.repeat(10)), m(2, 'x'.repeat(10)), m(3, 'é'.repeat(50))];
    expect(seqs(flow.take(push, 0).mutations)).toEqual([1]); // 13 bytes; 13 + 13 > 20
    expect(flow.queuedBytes).toBe(13);
    state.lastSeq = 1;
    expect(seqs(flow.take(push, 1).mutations)).toEqual([2]); // then 103 bytes do not fit next to it
    state.lastSeq = 2;
    expect(seqs(flow.take(push, 2).mutations)).toEqual([3]); // alone, they do
    expect(flow.queuedBytes).toBe(103);
  });

  test('follows the coordinator: resends are left out, a gap is handed over and ends the push', () => {
    const { flow } = setup({ maxQueuedMutations: 100, maxQueuedBytes: 1000 }, 4);
    // 3 and 4 were applied before; 5, 6 are new; 8 is a gap; 9 must not follow it.
    const piece = flow.take([m(3), m(4), m(5), m(6), m(8), m(9)], 0);
    expect({ seqs: seqs(piece.mutations), end: piece.end }).toEqual({ seqs: [5, 6, 8], end: true });
    expect(flow.queued).toBe(2);
    // Seq 0 is a gap too.
    expect(seqs(flow.take([m(0), m(7)], 0).mutations)).toEqual([0]);
    // The gap did not advance anything: 7 is next.
    expect(seqs(flow.take([m(6), m(7)], 0).mutations)).toEqual([7]);
  });

  test('a resend of a mutation queued but not applied yet is left out too', () => {
    const { flow } = setup({ maxQueuedMutations: 100, maxQueuedBytes: 1000 });
    flow.take([m(1), m(2)], 0);
    expect(seqs(flow.take([m(1), m(2), m(3)], 0).mutations)).toEqual([3]);
  });

  test('rejected mutations count as applied: last_seq moves past them all the same', () => {
    const { flow, state } = setup({ maxQueuedMutations: 2, maxQueuedBytes: 1000 });
    flow.take([m(1), m(2)], 0);
    state.lastSeq = 2;
    flow.refresh();
    expect(flow.queued).toBe(0);
    expect(flow.queuedBytes).toBe(0);
  });
});
