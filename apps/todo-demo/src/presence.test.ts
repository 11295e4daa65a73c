import { expect, test } from 'vitest';
import { colourOf, generatedName, initials, saveName, storedName } from './presence.js';

/** A Storage in memory. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}

test('a name is generated once and kept; a saved name replaces it, trimmed; a blank one does not', () => {
  const storage = memoryStorage();
  const first = storedName(storage);
  expect(first).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  expect(storedName(storage)).toBe(first);
  expect(saveName('  Ann Lee  ', storage)).toBe('Ann Lee');
  expect(storedName(storage)).toBe('Ann Lee');
  expect(saveName('   ', storage)).toBeUndefined();
  expect(storedName(storage)).toBe('Ann Lee');
  expect(saveName('x'.repeat(100), storage)).toHaveLength(40);
});

test('initials take the first letter of up to two words', () => {
  expect(initials('Quiet Otter')).toBe('QO');
  expect(initials('ann')).toBe('A');
  expect(initials('  Ann  Mary Lee ')).toBe('AM');
  expect(initials('Émile Zola')).toBe('ÉZ');
});

test('colours depend on the name only', () => {
  expect(colourOf('Ann')).toBe(colourOf('Ann'));
  const colours = new Set(Array.from({ length: 50 }, (_, i) => colourOf(generatedName(() => (i * 0.37) % 1))));
  expect(colours.size).toBeGreaterThan(1);
});
