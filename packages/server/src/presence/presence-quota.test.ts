import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { PresenceQuota } from './presence-quota.js';

beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'] }));
afterEach(() => void vi.useRealTimers());

it('passes a second of updates at once, refuses the rest with one told error per run, and refills', () => {
  const quota = new PresenceQuota({ maxPresenceBytes: 10, maxPresenceUpdatesPerSecond: 3 });
  expect([1, 2, 3].map(() => quota.check(0, 5))).toEqual([undefined, undefined, undefined]);
  expect(quota.check(0, 5)).toMatchObject({ code: 'presence_too_fast', tell: true });
  expect(quota.check(0, 5)).toMatchObject({ code: 'presence_too_fast', tell: false });
  vi.advanceTimersByTime(334);
  expect(quota.check(0, 5)).toBeUndefined();
  expect(quota.check(0, 5)).toMatchObject({ code: 'presence_too_fast', tell: true });
});

it('refuses a state over the size limit, every time, counting it against the rate', () => {
  const quota = new PresenceQuota({ maxPresenceBytes: 10, maxPresenceUpdatesPerSecond: 2 });
  expect(quota.check(7, 11)).toMatchObject({ code: 'presence_too_large', tell: true, message: expect.stringContaining('key 7 is 11 bytes') });
  expect(quota.check(7, 10)).toBeUndefined();
  expect(quota.check(7, 1)).toMatchObject({ code: 'presence_too_fast' });
});
