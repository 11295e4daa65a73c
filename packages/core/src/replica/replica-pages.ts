import { PAGE_SIZE, type PageImage, presentHeader, readChangeCounter, readSchemaCookie } from '../page/page.js';
import type { PageFile } from '../vfs/page-file.js';
import { PageBudget } from './page-budget.js';
import { samePage } from './same-page.js';

/**
 * What one read was served: each page's image as the replica showed it
 * (null: zeros past the end), and the page count. Pages are immutable, so
 * an image that is the same object is the same content.
 */
export interface PageReads {
  pages: Map<number, Uint8Array | null>;
  pageCount: number;
  /**
   * Whether the read reported the page count or the freelist (a pragma):
   * else changes to those alone (a commit that grew the file) leave it be.
   */
  allocation: boolean;
}

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
  // The pages served to the read being recorded (see recordReads).
  private readRecord: Map<number, Uint8Array | null> | undefined;
  // Set while a pending mutation applies (see recordMutation).
  private mutating = false;
  // The committed image under each page a recorded mutation read or wrote
  // since the overlay was last dropped: what the overlay depends on.
  private overlayDeps = new Map<number, Uint8Array | null>();
  private overlayDepsPageCount = 0;
  // False once something other than a recorded mutation wrote the overlay.
  private overlayRecorded = true;
  // Since the counter last changed, SQLite read or wrote pages (which its
  // cache may hold and serve without asking again): any at all, and any
  // outside a recorded mutation.
  private cacheWarm = false;
  private cacheUnrecorded = false;
  private presented: { source: Uint8Array; counter: number; cookie: number; image: Uint8Array } | undefined;
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

  /** A page as SQLite is shown it; page 1 presented (see {@link presentHeader}) in a buffer the next read of it reuses. */
  read(pgno: number): Uint8Array | undefined {
    this.reads++;
    this.touchCache();
    if (pgno > this.pageCount()) return undefined;
    const local = this.overlay.get(pgno);
    const page = local ?? this.committedPage(pgno);
    if (this.readRecord && !this.readRecord.has(pgno)) this.readRecord.set(pgno, page ?? null);
    if (this.mutating) this.noteDependency(pgno);
    if (this.budget && page && !local && this.base.get(pgno) === page) this.budget.touch(pgno);
    if (!page) {
      // Pages past the server's end were never on the server: the overlay grew
      // the file and SQLite will write them before it trusts their content.
      return pgno > this.committedPageCount() ? new Uint8Array(PAGE_SIZE) : undefined;
    }
    if (pgno !== 1) return page;
    if (local) {
      // SQLite wrote this image itself: its cookie is already in SQLite's terms.
      this.sqliteCookie = readSchemaCookie(page);
      return this.present(page, this.sqliteCookie);
    }
    let cookie = this.presentedBaseCookie(page);
    if (this.schemaDoubt && cookie === this.sqliteCookie) {
      this.cookieShift = (this.cookieShift + 1) >>> 0;
      cookie = (cookie + 1) >>> 0;
    }
    this.schemaDoubt = false;
    this.sqliteCookie = cookie;
    return this.present(page, cookie);
  }

  write(pgno: number, data: Uint8Array): void {
    this.touchCache();
    if (this.mutating) this.noteDependency(pgno);
    else this.overlayRecorded = false;
    this.overlay.set(pgno, data);
    if (pgno === 1) {
      this.counter = readChangeCounter(data);
      this.sqliteCookie = readSchemaCookie(data);
    }
    if (pgno > this.pageCount()) this.overlayPageCount = pgno;
  }

  truncate(pageCount: number): void {
    this.overlayRecorded = false;
    this.overlayPageCount = pageCount;
    for (const pgno of this.overlay.keys()) if (pgno > pageCount) this.overlay.delete(pgno);
  }

  /** Pages written since the overlay was last dropped. */
  overlayPages(): number[] {
    return [...this.overlay.keys()];
  }

  /**
   * Forgets local writes: the replica reads the base again. `under` is the
   * committed page 1 the overlay was written over, when a commit went on
   * since (default: the current one).
   */
  dropOverlay(under: Uint8Array | undefined = this.committedPage(1)): void {
    // SQLite's cache may hold pages the dropped record covered: no record covers them now.
    if (this.overlayDeps.size > 0 && this.cacheWarm) this.cacheUnrecorded = true;
    this.overlayDeps.clear();
    this.overlayRecorded = true;
    if (this.overlay.size === 0 && this.overlayPageCount === undefined) return;
    const local = this.overlay.get(1);
    const base = under;
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
    this.overlayDeps.clear();
    this.overlayRecorded = true;
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
   * Runs a read and records the pages it was served. SQLite serves pages
   * from its own cache while the change counter stands still, without
   * asking for them: a warm cache is dropped first (by moving the counter),
   * so that every page the read uses is asked for, and recorded.
   */
  recordReads<T>(read: () => T): { result: T; reads: PageReads } {
    if (this.cacheWarm) this.bumpCounter();
    const pages = new Map<number, Uint8Array | null>();
    this.readRecord = pages;
    try {
      const result = read();
      return { result, reads: { pages, pageCount: this.pageCount(), allocation: true } };
    } finally {
      this.readRecord = undefined;
    }
  }

  /** Whether every page `reads` recorded still shows the same content (a read would return the same). */
  unchanged(reads: PageReads): boolean {
    // An empty file reads no page at all: any page count is news to it.
    if ((reads.allocation || reads.pageCount === 0) && reads.pageCount !== this.pageCount()) return false;
    for (const [pgno, seen] of reads.pages) {
      const now = this.overlay.get(pgno) ?? this.visibleCommitted(pgno);
      if (now === seen) continue;
      if (!samePage(pgno, seen, now, reads.allocation)) return false;
      // Equal bytes in a new image: compare by identity next time.
      reads.pages.set(pgno, now);
    }
    return true;
  }

  /**
   * Runs a pending mutation and records, for each page it reads or writes
   * first, the committed image under the overlay: the overlay holds only
   * while those stay the same (see {@link overlaySurvives}). A cache warmed
   * by anything else is dropped first, as in {@link recordReads}.
   */
  recordMutation<T>(apply: () => T): T {
    if (this.cacheUnrecorded) this.bumpCounter();
    this.mutating = true;
    try {
      return apply();
    } finally {
      this.mutating = false;
    }
  }

  /**
   * Whether replaying the pending mutations over the commits shown since
   * the overlay was written would write it again as it is: true when no
   * page they read or wrote has a new committed image (page 1 compared
   * without the fields the replica presents itself) and the page count
   * stands, as SQLite then does exactly the same. False when anything but
   * recorded mutations wrote the overlay.
   */
  overlaySurvives(): boolean {
    if (!this.overlayRecorded) return false;
    if (this.overlayDeps.size > 0 && this.overlayDepsPageCount !== this.committedPageCount()) return false;
    for (const [pgno, image] of this.overlayDeps) {
      const now = this.visibleCommitted(pgno);
      if (now === image) continue;
      if (!samePage(pgno, image, now)) return false;
      this.overlayDeps.set(pgno, now);
    }
    return true;
  }

  /**
   * Runs a read on the committed pages alone, as if the overlay were
   * dropped, and puts the overlay back. SQLite's cache is dropped before
   * and after, so neither view leaks into the other.
   */
  readCommitted<T>(read: () => T): T {
    const overlay = this.overlay;
    const overlayPageCount = this.overlayPageCount;
    this.overlay = new Map();
    this.overlayPageCount = undefined;
    this.bumpCounter();
    try {
      return read();
    } finally {
      this.overlay = overlay;
      this.overlayPageCount = overlayPageCount;
      this.bumpCounter();
    }
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

  /** The committed image of a page as a read sees it: null past the end (zeros) or where it is missing. */
  private visibleCommitted(pgno: number): Uint8Array | null {
    return pgno > this.committedPageCount() ? null : (this.committedPage(pgno) ?? null);
  }

  private noteDependency(pgno: number): void {
    if (this.overlayDeps.has(pgno)) return;
    if (this.overlayDeps.size === 0) this.overlayDepsPageCount = this.committedPageCount();
    this.overlayDeps.set(pgno, this.visibleCommitted(pgno));
  }

  private touchCache(): void {
    this.cacheWarm = true;
    if (!this.mutating) this.cacheUnrecorded = true;
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

  /**
   * Page 1 as SQLite is shown it. SQLite reads it at the start of every
   * statement (the change counter): the last image is kept while its
   * source, counter and cookie stand, rather than copied again each time.
   */
  private present(page1: Uint8Array, cookie: number): Uint8Array {
    const last = this.presented;
    if (last && last.source === page1 && last.counter === this.counter && last.cookie === cookie) return last.image;
    // Rewritten in place: the counter moves with every commit, and a new
    // 4 KiB buffer each time is garbage the moment the VFS copied it (see PageFile.read).
    const image = presentHeader(page1, this.counter, cookie, last && last.image !== page1 && last.image.length === page1.length ? last.image : undefined);
    this.presented = { source: page1, counter: this.counter, cookie, image };
    return image;
  }

  private presentedBaseCookie(base1: Uint8Array): number {
    return (readSchemaCookie(base1) + this.cookieShift) >>> 0;
  }

  private bumpCounter(): void {
    this.cacheWarm = false;
    this.cacheUnrecorded = false;
    this.counter = (this.counter + 1) >>> 0 || 1;
  }
}
