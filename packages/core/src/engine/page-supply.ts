import { QuireError } from '../errors.js';
import { PAGE_SIZE, type PageImage } from '../page/page.js';
import type { ReplicaDb } from '../replica/replica-db.js';
import type { EngineStore } from './engine-store.js';
import { PrefetchPlanner, type ReadHistory } from './prefetch.js';

export interface PageSupplyOptions {
  fetchPages?: ((pgnos: number[]) => Promise<void>) | undefined;
  prefetch?: boolean | undefined;
  /** Bytes: a document no larger is fetched whole at its first missing page. Default 0. */
  fetchWholeBelow?: number | undefined;
  onEvict?: ((pgnos: number[]) => void) | undefined;
}

/**
 * Where a partial replica's base pages come from and where they go: fetches
 * for the pages reads miss (with prefetch), and eviction to the cache budget.
 */
export class PageSupply {
  private readonly planner: PrefetchPlanner;
  // Reads waiting for pages: while any is, nothing is evicted, or a read
  // larger than the cache could lose its pages before it runs again.
  private readsWaiting = 0;

  constructor(
    private readonly options: PageSupplyOptions,
    private readonly store: EngineStore,
  ) {
    this.planner = new PrefetchPlanner(options.prefetch ?? true, Math.floor((options.fetchWholeBelow ?? 0) / PAGE_SIZE));
  }

  /** New base pages: the planner learns the b-tree from them (a replica that never fetches has no use for it). */
  learn(pages: Iterable<PageImage>): void {
    if (this.options.fetchPages) this.planner.learn(pages);
  }

  /** A snapshot replaced the base: what the planner knew of the old one is void. */
  resetLayout(): void {
    this.planner.forget();
  }

  /** The pages to fetch for a read that missed `missing`. */
  plan(db: ReplicaDb, missing: number[], history: ReadHistory): number[] {
    return this.planner.plan(missing, history, (pgno) => db.pages.holds(pgno), db.pages.baseImage().pageCount);
  }

  /** Resolves once the pages were applied; nothing is evicted meanwhile. */
  fetch(pgnos: number[]): Promise<void> {
    const fetchPages = this.options.fetchPages;
    if (!fetchPages) {
      return Promise.reject(new QuireError('missing_pages', `the replica lacks pages ${pgnos.slice(0, 10).join(', ')} and has no way to fetch them — a replica without fetchPages must hold every page`));
    }
    this.readsWaiting++;
    return fetchPages(pgnos).finally(() => this.readsWaiting--);
  }

  /** Keeps a bounded base within its budget; only while no read waits for pages. */
  evict(db: ReplicaDb): void {
    if (this.readsWaiting > 0) return;
    const dropped = db.pages.evict((pgno) => this.planner.isStructural(pgno));
    if (dropped.length === 0) return;
    this.options.onEvict?.(dropped);
    const { lsn, pageCount } = db.pages.baseImage();
    this.store.putBase({ kind: 'commit', lsn, pageCount, pages: [], dropped, settledThroughSeq: 0 });
  }
}
