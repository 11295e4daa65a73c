import { describe, expect, test } from 'vitest';
import { QuireError } from '@quire/core';
import { DEFAULT_LIMITS, resolveLimits } from './limits.js';

describe('resolveLimits', () => {
  test('defaults, overridden one by one; Infinity turns a limit off', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ maxQueuedMutations: 5, maxPagesInFlight: Infinity })).toEqual({ ...DEFAULT_LIMITS, maxQueuedMutations: 5, maxPagesInFlight: Infinity });
  });

  test.each([0, -1, 1.5, Number.NaN, '10'])('refuses %s with invalid_limit', (value) => {
    const run = () => resolveLimits({ maxQueuedMutations: value as number });
    expect(run).toThrow(QuireError);
    expect(run).toThrow(/limits\.maxQueuedMutations is .* — use a positive integer/);
  });

  test('refuses an unknown limit by name', () => {
    expect(() => resolveLimits({ maxQueued: 3 } as never)).toThrow(/unknown limit "maxQueued"/);
  });
});
