import { expect, test } from 'vitest';
import { backoffDelay, restartDelay } from './backoff.js';

test('delay doubles per attempt up to the cap, with jitter in the upper half', () => {
  const low = () => 0;
  const high = () => 0.999999;
  expect(backoffDelay(0, {}, low)).toBe(50);
  expect(backoffDelay(3, {}, low)).toBe(400);
  expect(backoffDelay(3, {}, high)).toBeCloseTo(800, 0);
  expect(backoffDelay(40, { maxDelayMs: 2000 }, high)).toBeCloseTo(2000, 0);
  expect(backoffDelay(40, { maxDelayMs: 2000 }, low)).toBe(1000);
});

test('after a restart close the delay is flat, spread over the last three quarters of restartDelayMs', () => {
  expect(restartDelay({}, () => 0)).toBe(250);
  expect(restartDelay({}, () => 0.999999)).toBeCloseTo(1000, 0);
  expect(restartDelay({ restartDelayMs: 400 }, () => 0.5)).toBe(250);
});
