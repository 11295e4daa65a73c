import { expect, test } from 'vitest';
import { RejectionIndex } from './rejection-index.js';

const rejected = (clientId: string, seq: number) => ({ clientId, seq, code: 'reducer_error', message: `no ${seq}` });

test('past its capacity the index drops the oldest record, and that client then hears outcome_unknown, never silence', () => {
  const index = new RejectionIndex(2);
  index.add(rejected('a', 3));
  index.add(rejected('b', 1));
  index.add(rejected('b', 2)); // a:3 leaves the window
  // a was away: its pending 2..4 were settled (3 rejected, 2 and 4 applied). 2 and 3 are at or below the dropped seq.
  const answer = index.since('a', 2);
  expect(answer.map((r) => [r.seq, r.code])).toEqual([
    [2, 'outcome_unknown'],
    [3, 'outcome_unknown'],
  ]);
  expect(answer[0]!.message).toMatch(/no longer knows whether this mutation was applied or rejected.*call the reducer again if its effect is missing$/);
  // Kept records still answer exactly.
  expect(index.since('b', 1).map((r) => [r.seq, r.code])).toEqual([
    [1, 'reducer_error'],
    [2, 'reducer_error'],
  ]);
});

test('the state survives a checkpoint round trip, and a client that settled past the dropped seqs is forgotten', () => {
  const index = new RejectionIndex(1);
  index.add(rejected('a', 5));
  index.add(rejected('b', 1));
  const restored = RejectionIndex.restore(index.state(), 1);
  expect(restored.state()).toEqual({ rejections: [rejected('b', 1)], unknownOutcomes: [{ clientId: 'a', upToSeq: 5 }] });
  expect(restored.since('a', 5).map((r) => r.code)).toEqual(['outcome_unknown']);
  expect(restored.since('a', 6)).toEqual([]);
  expect(restored.state().unknownOutcomes).toEqual([]);
});
