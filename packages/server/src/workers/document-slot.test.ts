import { expect, test } from 'vitest';
import { documentSlot } from './document-slot.js';

test('a document always lands on the same worker, and documents spread over all of them', () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 1000; i++) {
    const slot = documentSlot(`doc-${i}`, 4);
    expect(documentSlot(`doc-${i}`, 4)).toBe(slot);
    counts[slot]!++;
  }
  for (const count of counts) expect(count).toBeGreaterThan(150);
  expect(documentSlot('anything', 1)).toBe(0);
});
