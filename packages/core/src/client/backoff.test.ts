import { expect, test } from 'vitest';
import { backoffDelay } from './backoff.js';

test('delay doubles per attempt up to the cap, with jitter in the upper half', () => {
  const low = () => 0;
  const high = () => 0.999999;
  expect(backoffDelay(0, {}, low)).toBe(50);
  expect(backoffDelay(3, {}, low)).toBe(400);
  expect(backoffDelay(3, {}, high)).toBeCloseTo(800, 0);
  expect(backoffDelay(40, { maxDelayMs: 2000 }, high)).toBeCloseTo(2000, 0);
  expect(backoffDelay(40, { maxDelayMs: 2000 }, low)).toBe(1000);
});
