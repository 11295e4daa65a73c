import { describe, expect, test } from 'vitest';
import { PAGE_SIZE } from '../page/page.js';
import { PageBudget } from './page-budget.js';

const unpinned = () => false;

describe('PageBudget', () => {
  test('nothing is a victim while the held pages fit', () => {
    const budget = new PageBudget(3 * PAGE_SIZE);
    for (const pgno of [1, 2, 3]) budget.touch(pgno);
    expect(budget.victims(3, unpinned)).toEqual([]);
  });

  test('victims are the least recently touched pages, oldest first', () => {
    const budget = new PageBudget(2 * PAGE_SIZE);
    for (const pgno of [5, 6, 7, 8]) budget.touch(pgno);
    expect(budget.victims(4, unpinned)).toEqual([5, 6]);
  });

  test('touching a page again makes it the most recent', () => {
    const budget = new PageBudget(2 * PAGE_SIZE);
    for (const pgno of [5, 6, 7, 8]) budget.touch(pgno);
    budget.touch(5);
    budget.touch(6);
    expect(budget.victims(4, unpinned)).toEqual([7, 8]);
  });

  test('pinned pages are skipped and the next oldest goes instead', () => {
    const budget = new PageBudget(1 * PAGE_SIZE);
    for (const pgno of [1, 2, 3, 4]) budget.touch(pgno);
    expect(budget.victims(4, (pgno) => pgno === 1 || pgno === 3)).toEqual([2, 4]);
  });

  test('forgotten pages are no longer candidates; clear forgets all', () => {
    const budget = new PageBudget(0);
    for (const pgno of [1, 2, 3]) budget.touch(pgno);
    budget.forget(2);
    expect(budget.victims(3, unpinned)).toEqual([1, 3]);
    budget.clear();
    expect(budget.victims(3, unpinned)).toEqual([]);
  });
});
