import { describe, expect, test } from 'vitest';
import { ClientSeqs } from './client-seqs.js';

describe('ClientSeqs: the seq rule', () => {
  test('a new client starts at 1; each accepted seq moves the next one up', () => {
    const seqs = new ClientSeqs(() => 0);
    expect(seqs.verdict('a', 1)).toBe('next');
    seqs.queued('a', 1);
    expect(seqs.expected('a')).toBe(2);
    expect(seqs.verdict('a', 2)).toBe('next');
  });

  test('a resend of an applied or of a queued seq is skipped', () => {
    const seqs = new ClientSeqs(() => 4);
    // 1..4 applied before (last_seq 4).
    for (const seq of [1, 3, 4]) expect(seqs.verdict('a', seq)).toBe('resend');
    seqs.queued('a', 5);
    seqs.queued('a', 6);
    expect(seqs.verdict('a', 6)).toBe('resend');
    expect(seqs.verdict('a', 7)).toBe('next');
  });

  test('anything else is a gap: a seq that skips ahead, 0, or not a whole number', () => {
    const seqs = new ClientSeqs(() => 2);
    for (const seq of [4, 100, 0, -1, 3.5]) expect(seqs.verdict('a', seq)).toBe('gap');
    // A gap moves nothing: 3 is still next.
    expect(seqs.verdict('a', 3)).toBe('next');
  });

  test('applied and queued count alike: the higher one decides', () => {
    const seqs = new ClientSeqs(() => 0);
    seqs.queued('a', 1);
    seqs.queued('a', 2);
    seqs.queued('a', 3);
    // A commit settled 1 and 2; 3 is still queued.
    seqs.applied('a', 2);
    expect(seqs.verdict('a', 3)).toBe('resend');
    expect(seqs.verdict('a', 4)).toBe('next');
    seqs.applied('a', 3);
    expect(seqs.expected('a')).toBe(4);
  });

  test('reads each client\'s last_seq once, when it is first seen, and keeps clients apart', () => {
    const reads: string[] = [];
    const seqs = new ClientSeqs((clientId) => (reads.push(clientId), clientId === 'a' ? 7 : 0));
    expect(seqs.verdict('a', 8)).toBe('next');
    expect(seqs.verdict('b', 1)).toBe('next');
    seqs.queued('a', 8);
    expect(seqs.verdict('a', 9)).toBe('next');
    expect(seqs.verdict('b', 8)).toBe('gap');
    expect(reads).toEqual(['a', 'b']);
  });

  test('a hello past what the document has (it lost commits) moves the next seq there; one at or below it moves nothing', () => {
    const seqs = new ClientSeqs(() => 2);
    expect(seqs.settledBelow('a', 0)).toBeUndefined();
    expect(seqs.settledBelow('a', 3)).toBeUndefined();
    expect(seqs.verdict('a', 3)).toBe('next');
    // The client was told 3..6 were settled; the document never had them.
    expect(seqs.settledBelow('a', 7)).toBe(3);
    expect(seqs.verdict('a', 5)).toBe('resend');
    expect(seqs.verdict('a', 7)).toBe('next');
    expect(seqs.settledBelow('a', 7)).toBeUndefined();
  });
});
