import { describe, expect, test } from 'vitest';
import { resolveListAddress } from './list-url.js';

/** A location at `href` and a history that records replaceState calls. */
function at(href: string) {
  const replaced: string[] = [];
  const history = { state: null, replaceState: (_state: unknown, _title: string, url: URL | string) => replaced.push(String(url)) } as unknown as History;
  return { location: { href } as Location, history, replaced };
}

describe('the list address', () => {
  test('a valid ?list= opens that list and leaves the address alone', () => {
    const page = at('http://demo/?list=abc_DEF-123#/active');
    expect(resolveListAddress(page.location, page.history)).toEqual({ kind: 'list', id: 'abc_DEF-123' });
    expect(page.replaced).toEqual([]);
  });

  test('no ?list= makes a new list and moves to its address, keeping the filter', () => {
    const page = at('http://demo/#/completed');
    const address = resolveListAddress(page.location, page.history);
    if (address.kind !== 'list') throw new Error(`expected a list, got ${JSON.stringify(address)}`);
    expect(address.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(page.replaced).toEqual([`http://demo/?list=${address.id}#/completed`]);
  });

  test('an invalid ?list= is reported as such, not replaced by a new list', () => {
    for (const given of ['not a list!', '', 'x'.repeat(129), '../etc']) {
      const page = at(`http://demo/?list=${encodeURIComponent(given)}`);
      expect(resolveListAddress(page.location, page.history)).toEqual({ kind: 'invalid', given });
      expect(page.replaced).toEqual([]);
    }
  });
});
