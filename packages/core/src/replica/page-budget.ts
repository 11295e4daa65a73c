import { PAGE_SIZE } from '../page/page.js';

/**
 * Keeps a partial replica's base pages within a byte budget by forgetting
 * the least recently used ones. Eviction itself runs only between engine
 * operations (never while SQLite reads, or a query larger than the budget
 * would refault forever), and skips pinned pages: page 1, interior b-tree
 * pages and pages under pending writes.
 */
export class PageBudget {
  // The recency list: a Set iterates in insertion order, so re-adding a page
  // on every touch keeps the least recently used first.
  private readonly recency = new Set<number>();

  constructor(readonly maxBytes: number) {}

  touch(pgno: number): void {
    this.recency.delete(pgno);
    this.recency.add(pgno);
  }

  forget(pgno: number): void {
    this.recency.delete(pgno);
  }

  clear(): void {
    this.recency.clear();
  }

  /** Least recently used first, the pages to drop so that `held` pages fit; never a pinned one. */
  victims(held: number, pinned: (pgno: number) => boolean): number[] {
    let excess = held - Math.floor(this.maxBytes / PAGE_SIZE);
    const out: number[] = [];
    if (excess <= 0) return out;
    for (const pgno of this.recency) {
      if (excess <= 0) break;
      if (pinned(pgno)) continue;
      out.push(pgno);
      excess--;
    }
    return out;
  }
}
