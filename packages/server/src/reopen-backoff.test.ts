import { expect, test } from 'vitest';
import { FAILURE_WINDOW_MS, MAX_REOPEN_DELAY_MS, ReopenBackoff } from './reopen-backoff.js';

test('the first failure reopens at once; failures in a row wait 1 s, 2 s, 4 s… up to a minute', () => {
  let now = 1_000_000;
  const backoff = new ReopenBackoff(() => now);
  const waits: number[] = [];
  for (let i = 0; i < 10; i++) {
    const failure = backoff.fail('doc');
    waits.push(failure.retryAt - now);
    now = failure.retryAt;
  }
  expect(waits).toEqual([0, 1000, 2000, 4000, 8000, 16_000, 32_000, MAX_REOPEN_DELAY_MS, MAX_REOPEN_DELAY_MS, MAX_REOPEN_DELAY_MS]);
  expect(backoff.blocking('other')).toBeUndefined();
});

test('a document is blocked until its retry time; a failure long after the last one counts from 1 again', () => {
  let now = 0;
  const backoff = new ReopenBackoff(() => now);
  backoff.fail('doc');
  expect(backoff.blocking('doc')).toBeUndefined();
  backoff.fail('doc');
  expect(backoff.blocking('doc')).toMatchObject({ count: 2, retryAt: 1000 });
  now = 1000;
  expect(backoff.blocking('doc')).toBeUndefined();
  now += FAILURE_WINDOW_MS;
  expect(backoff.fail('doc')).toEqual({ count: 1, retryAt: now });
});

test('refuseUntilRestart blocks for good', () => {
  let now = 0;
  const backoff = new ReopenBackoff(() => now);
  backoff.fail('doc');
  backoff.refuseUntilRestart('doc');
  now += 10 * FAILURE_WINDOW_MS;
  expect(backoff.blocking('doc')?.retryAt).toBe(Infinity);
  expect(backoff.fail('doc').retryAt).toBe(Infinity);
});
