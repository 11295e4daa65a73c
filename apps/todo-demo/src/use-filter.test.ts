import { expect, test } from 'vitest';
import { FILTERS, filterFromHash } from './use-filter.js';

test('the TodoMVC routes map to filters, anything else shows all', () => {
  expect(FILTERS.map((f) => filterFromHash(f.href))).toEqual(['all', 'active', 'completed']);
  for (const hash of ['', '#', '#/', '#/nope', '#active/x']) expect(filterFromHash(hash), hash).toBe('all');
  expect(filterFromHash('#active')).toBe('active');
});
