import { expect, test } from 'vitest';
import { SeqLedger } from './seq-ledger.js';

test('without a store every seq is durable at once and numbering starts at 1', () => {
  const seqs = new SeqLedger(false);
  expect(seqs.ready).toBe(true);
  expect([seqs.assign(), seqs.assign()]).toEqual([1, 2]);
  expect(seqs.isDurable(2)).toBe(true);
});

test('with a store: no seq before the stored replica loads, then above everything settled or pending', () => {
  const seqs = new SeqLedger(true);
  expect(seqs.ready).toBe(false);
  expect(seqs.settle(7)).toBe(true);
  expect(seqs.settle(5)).toBe(false);
  seqs.resume(4);
  expect(seqs.ready).toBe(true);
  expect(seqs.isDurable(7)).toBe(true);
  expect(seqs.assign()).toBe(8);
  expect(seqs.isDurable(8)).toBe(false);
  seqs.markDurable(8);
  expect(seqs.isDurable(8)).toBe(true);
});
