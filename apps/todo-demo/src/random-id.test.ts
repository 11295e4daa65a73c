import { expect, test } from 'vitest';
import { isValidDocId } from '@quire/core/protocol';
import { randomId } from './random-id.js';

test('list ids are valid, URL-safe doc ids and do not repeat', () => {
  const ids = Array.from({ length: 500 }, randomId);
  for (const id of ids) {
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(isValidDocId(id)).toBe(true);
  }
  expect(new Set(ids).size).toBe(ids.length);
});
