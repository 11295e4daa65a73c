import { PAGE_SIZE, type PageImage, presentHeader, readChangeCounter, readSchemaCookie } from '../page/page.js';
import type { PageFile } from '../vfs/page-file.js';
import { PageBudget } from './page-budget.js';

/**
 * A server commit the replica shows that the server has not yet made
 * durable: it may be lost in a server crash, so it is kept apart from the base.
 */
interface Layer {
  lsn: number;
  pageCount: number;
  /** The commit's images; null for a page it changed without sending an image (a partial replica fetches it). */
  pages: Map<number, Uint8Array | null>;
}

/**
 * The pages a client replica reads: the server's durable state (the base),
 * under the server's commits that are not yet durable (layers, oldest
 * first), under the pages that local, unconfirmed mutations wrote (the
 * overlay). A read takes the overlay's page, else the newest layer's, …,
 * else the base's.
 *
 * The base is byte-for-byte what the server has durable at `durableLsn`;
 * `durable` folds layers into it, `dropLayers` forgets them (the server
 * crashed before they were durable). Page 1 is only rewritten on its way to
 * SQLite (see {@link presentHeader}).
 *
 * SQLite keeps its parsed schema while the schema cookie is unchanged. When
 * the pages under it are swapped for another lineage (a snapshot, or local
 * schema changes dropped at rebase), the new cookie can be equal by chance
 * while the schema differs; then the base's cookie is presented shifted, so
 * SQLite sees a new value and re-reads the schema.
 */
export class ReplicaPages implements PageFile {
  private base = new Map<number, Uint8Array>();
  private basePageCount = 0;
  private baseLsn = 0;
  private layers: Layer[] = [];
  private overlay = new Map<number, Uint8Array>();
  private overlayPageCount: number | undefined;
  private counter = 1;
  private cookieShift = 0;
  // The schema cookie SQLite last read or wrote, as it saw it.
  private sqliteCookie: number | undefined;
  // The pages under SQLite were swapped: its schema may be stale at an equal cookie.
  private schemaDoubt = false;
  /** Page reads served to SQLite so far (for per-query instrumentation). */
  reads = 0;
  private readonly budget: PageBudget | undefined;

  /** `cacheBytes` bounds the base of a partial replica (see {@link evict}); default unbounded. */
  constructor(cacheBytes?: number) {
    this.budget = cacheBytes === undefined ? undefined : new PageBudget(cacheBytes);
  }

  /** The LSN the replica shows: its newest layer's, else the base's. */
  get lsn(): number {
    return this.layers.at(-1)?.lsn ?? this.baseLsn;
  }

  /** The LSN of the base: the server's durable state. */
  get durableLsn(): number {
    return this.baseLsn;
  }

  /** How many non-durable commits lie over the base. */
  get layerCount(): number {
    return this.layers.length;
  }

  pageCount(): number {
    return this.overlayPageCount ?? this.committedPageCount();
  }

  /** Whether a read of `pgno` would be served without fetching. */
  holds(pgno: number): boolean {
    return this.overlay.has(pgno) || this.committedPage(pgno) !== undefined || pgno > this.committedPageCount();
  }

  /** A page as the server's newest commit here left it (layers, then base), without local writes. */
  committedPage(pgno: number): Uint8Array | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]!;
      const page = layer.pages.get(pgno);
      if (page !== undefined) return page ?? undefined;
      // The document was shorter at that commit: older copies are stale.
      if (pgno > layer.pageCount) return undefined;
    }
    return this.base.get(pgno);
  }

  read(pgno: number): Uint8Array | undefined {
    this.reads++;
    if (pgno > this.pageCount()) return undefined;
    const local = this.overlay.get(pgno);
    const page = local ?? this.committedPage(pgno);
    if (this.budget && page && !local && this.base.get(pgno) === page) this.budget.touch(pgno);
    if (!page) {
      // Pages past the server's end were never on the server: the overlay grew
      // the file and SQLite will write them before it trusts their content.
      return pgno > this.committedPageCount() ? new Uint8Array(PAGE_SIZE) : undefined;
    }
    if (pgno !== 1) return page;
    if (local) {
      // SQLite wrote this image itself: its cookie is already in SQLite's terms.
      const out = presentHeader(page, this.counter);
      this.sqliteCookie = readSchemaCookie(out);
      return out;
    }
    let cookie = this.presentedBaseCookie(page);
    if (this.schemaDoubt && cookie === this.sqliteCookie) {
      this.cookieShift = (this.cookieShift + 1) >>> 0;
      cookie = (cookie + 1) >>> 0;
    }
    this.schemaDoubt = false;
    this.sqliteCookie = cookie;
    return presentHeader(page, this.counter, cookie);
  }

  write(pgno: number, data: Uint8Array): void {
    this.overlay.set(pgno, data.slice());
    if (pgno === 1) {
      this.counter = readChangeCounter(data);
      this.sqliteCookie = readSchemaCookie(data);
    }
    if (pgno > this.pageCount()) this.overlayPageCount = pgno;
  }

  truncate(pageCount: number): void {
    this.overlayPageCount = pageCount;
    for (const pgno of this.overlay.keys()) if (pgno > pageCount) this.overlay.delete(pgno);
  }

  /** Pages written since the overlay was last dropped. */
  overlayPages(): number[] {
    return [...this.overlay.keys()];
  }

  /** Forgets local writes: the replica reads the base again. */
  dropOverlay(): void {
    if (this.overlay.size === 0 && this.overlayPageCount === undefined) return;
    const local = this.overlay.get(1);
    const base = this.committedPage(1);
    // Local schema changes are dropped: SQLite holds a schema the server's pages lack.
    if (local && (!base || readSchemaCookie(local) !== this.presentedBaseCookie(base))) this.schemaDoubt = true;
    this.overlay.clear();
    this.overlayPageCount = undefined;
    this.bumpCounter();
  }

  /** Replaces the whole base with a snapshot. */
  resetBase(lsn: number, pageCount: number, pages: Iterable<PageImage>): void {
    this.base = new Map();
    this.budget?.clear();
    for (const { pgno, data } of pages) {
      this.base.set(pgno, data);
      this.budget?.touch(pgno);
    }
    this.basePageCount = pageCount;
    this.baseLsn = lsn;
    this.layers = [];
    this.overlay.clear();
    this.overlayPageCount = undefined;
    this.schemaDoubt = true;
    this.bumpCounter();
  }

  /** Moves the base forward by one durable commit (or a catch-up range of commits). */
  applyToBase(lsn: number, pageCount: number, pages: Iterable<PageImage>): void {
    // Durable updates come only at a connection's start, after the layers were dropped.
    if (this.layers.length > 0) throw new Error(`a durable update to LSN ${lsn} came over ${this.layers.length} non-durable commit(s)`);
    for (const { pgno, data } of pages) this.setBasePage(pgno, data);
    this.truncateBase(pageCount);
    this.basePageCount = pageCount;
    this.baseLsn = lsn;
    this.bumpCounter();
  }

  /**
   * Shows a commit that is not yet durable over the base and earlier layers;
   * `forgotten` pages changed without an image here. Drop the overlay first.
   */
  pushLayer(lsn: number, pageCount: number, pages: Iterable<PageImage>, forgotten: Iterable<number>): void {
    const layer: Layer = { lsn, pageCount, pages: new Map() };
    for (const { pgno, data } of pages) layer.pages.set(pgno, data);
    for (const pgno of forgotten) layer.pages.set(pgno, null);
    this.layers.push(layer);
    this.bumpCounter();
  }

  /**
   * The server made every commit up to `lsn` durable: their layers move into
   * the base. What the replica shows does not change. Returns the base's
   * change, to persist, or undefined if no layer was that old.
   */
  foldLayers(lsn: number): { lsn: number; pageCount: number; pages: PageImage[]; dropped: number[]; layers: number } | undefined {
    let folded = 0;
    const touched = new Set<number>();
    for (const layer of this.layers) {
      if (layer.lsn > lsn) break;
      for (const [pgno, data] of layer.pages) {
        touched.add(pgno);
        if (data) this.setBasePage(pgno, data);
        else this.dropBasePage(pgno);
      }
      for (const pgno of this.truncateBase(layer.pageCount)) touched.add(pgno);
      this.basePageCount = layer.pageCount;
      this.baseLsn = layer.lsn;
      folded++;
    }
    if (folded === 0) return undefined;
    this.layers.splice(0, folded);
    const pages: PageImage[] = [];
    const dropped: number[] = [];
    for (const pgno of [...touched].sort((a, b) => a - b)) {
      const data = this.base.get(pgno);
      if (data) pages.push({ pgno, data });
      else if (pgno <= this.basePageCount) dropped.push(pgno);
    }
    return { lsn: this.baseLsn, pageCount: this.basePageCount, pages, dropped, layers: folded };
  }

  /**
   * Forgets every layer (the server may have lost them): the replica shows
   * the durable base again. Drop the overlay first. Returns whether any was.
   */
  dropLayers(): boolean {
    if (this.layers.length === 0) return false;
    this.layers = [];
    // SQLite may hold a schema from a dropped commit.
    this.schemaDoubt = true;
    this.bumpCounter();
    return true;
  }

  /**
   * Adds pages fetched for a partial base, as of the base's LSN. SQLite never
   * read them (a read of a missing page fails), so its cache needs no reset.
   */
  addBasePages(pages: Iterable<PageImage>): void {
    for (const { pgno, data } of pages) {
      if (pgno > this.basePageCount || this.base.has(pgno)) continue;
      this.base.set(pgno, data);
      this.budget?.touch(pgno);
    }
  }

  /** Drops base pages that changed on the server without this replica getting their new images. */
  forgetBasePages(pgnos: Iterable<number>): void {
    for (const pgno of pgnos) this.dropBasePage(pgno);
  }

  /**
   * Drops least recently used base pages until the base fits its budget.
   * Never page 1, pages under the overlay, or what `pinned` names. Call
   * between operations only. Returns the dropped page numbers.
   */
  evict(pinned: (pgno: number) => boolean): number[] {
    if (!this.budget) return [];
    const victims = this.budget.victims(this.base.size, (pgno) => pgno === 1 || this.overlay.has(pgno) || pinned(pgno));
    for (const pgno of victims) {
      this.base.delete(pgno);
      this.budget.forget(pgno);
    }
    return victims;
  }

  /** The base page as the server has it, for comparisons and persistence. */
  basePage(pgno: number): Uint8Array | undefined {
    return this.base.get(pgno);
  }

  /** The durable base: what the store keeps. */
  baseImage(): { lsn: number; pageCount: number; pages: Map<number, Uint8Array> } {
    return { lsn: this.baseLsn, pageCount: this.basePageCount, pages: this.base };
  }

  private committedPageCount(): number {
    return this.layers.at(-1)?.pageCount ?? this.basePageCount;
  }

  private setBasePage(pgno: number, data: Uint8Array): void {
    this.base.set(pgno, data);
    this.budget?.touch(pgno);
  }

  private dropBasePage(pgno: number): void {
    this.base.delete(pgno);
    this.budget?.forget(pgno);
  }

  /** Drops base pages past `pageCount`; returns them. */
  private truncateBase(pageCount: number): number[] {
    if (pageCount >= this.basePageCount) return [];
    const gone = [...this.base.keys()].filter((pgno) => pgno > pageCount);
    for (const pgno of gone) this.dropBasePage(pgno);
    return gone;
  }

  private presentedBaseCookie(base1: Uint8Array): number {
    return (readSchemaCookie(base1) + this.cookieShift) >>> 0;
  }

  private bumpCounter(): void {
    this.counter = (this.counter + 1) >>> 0 || 1;
  }
}
