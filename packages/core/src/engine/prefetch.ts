import { interiorChildren } from '../page/btree-page.js';
import type { PageImage } from '../page/page.js';

/** Pages prefetched for a scan at first; doubles each round the scan goes on. */
const FIRST_SCAN_BATCH = 16;
const MAX_SCAN_BATCH = 256;

/** One read's misses so far, so the planner can tell a scan from a lookup. */
export interface ReadHistory {
  misses: number[];
  scanBatch: number;
}

export function newReadHistory(): ReadHistory {
  return { misses: [], scanBatch: FIRST_SCAN_BATCH };
}

/**
 * Chooses the pages to fetch for a read that missed some. A lookup fetches
 * just its misses: one page per b-tree level. When a read misses a page whose
 * left sibling (under the same interior page) it missed before, it is a scan,
 * and the next siblings are fetched with it, in batches that double. Where
 * the b-tree says nothing (no parent known), a constant stride between misses
 * predicts the next ones.
 */
export class PrefetchPlanner {
  // child page → its parent interior page and position there
  private readonly parents = new Map<number, { parent: number; index: number }>();
  private readonly children = new Map<number, number[]>();

  /** `wholeBelow`: documents of at most this many pages are fetched whole at their first miss. */
  constructor(
    private readonly enabled: boolean,
    private readonly wholeBelow = 0,
  ) {}

  /** Learns the children of the interior pages among `pages` (new base pages). */
  learn(pages: Iterable<PageImage>): void {
    for (const { pgno, data } of pages) {
      const kids = interiorChildren(data, pgno);
      if (!kids) {
        this.children.delete(pgno);
        continue;
      }
      this.children.set(pgno, kids);
      kids.forEach((child, index) => this.parents.set(child, { parent: pgno, index }));
    }
  }

  /** Interior b-tree pages: every lookup passes through them, so the cache keeps them. */
  isStructural(pgno: number): boolean {
    return this.children.has(pgno);
  }

  forget(): void {
    this.parents.clear();
    this.children.clear();
  }

  plan(missing: readonly number[], history: ReadHistory, held: (pgno: number) => boolean, pageCount: number): number[] {
    const out = new Set(missing);
    if (pageCount <= this.wholeBelow) {
      // One round trip for all of a small document beats one per b-tree level and scan batch.
      for (let pgno = 1; pgno <= pageCount; pgno++) if (!held(pgno)) out.add(pgno);
      history.misses.push(...missing);
      return [...out];
    }
    if (this.enabled) {
      for (const pgno of missing) {
        for (const next of this.predict(pgno, history, pageCount)) if (!held(next)) out.add(next);
      }
      if (out.size > missing.length) history.scanBatch = Math.min(MAX_SCAN_BATCH, history.scanBatch * 2);
    }
    history.misses.push(...missing);
    return [...out];
  }

  private predict(pgno: number, history: ReadHistory, pageCount: number): number[] {
    const at = this.parents.get(pgno);
    if (at) {
      const scanning = history.misses.some((m) => {
        const other = this.parents.get(m);
        return other !== undefined && other.parent === at.parent && other.index < at.index;
      });
      if (!scanning) return [];
      return this.children.get(at.parent)!.slice(at.index + 1, at.index + 1 + history.scanBatch);
    }
    const [a, b] = history.misses.slice(-2);
    if (a === undefined || b === undefined) return [];
    const stride = b - a;
    if (stride === 0 || pgno - b !== stride) return [];
    const out: number[] = [];
    for (let k = 1; k <= history.scanBatch; k++) {
      const next = pgno + stride * k;
      if (next < 1 || next > pageCount) break;
      out.push(next);
    }
    return out;
  }
}
