import { PAGE_SIZE, type PageImage, presentHeader, readChangeCounter, readSchemaCookie } from '../page/page.js';
import type { PageFile } from '../vfs/page-file.js';
import { PageBudget } from './page-budget.js';

/**
 * The pages a client replica reads: the server's snapshot (the base) under
 * the pages that local, unconfirmed mutations wrote (the overlay).
 *
 * The base is byte-for-byte what the server has at `lsn`. Page 1 is only
 * rewritten on its way to SQLite (see {@link presentHeader}).
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
  private overlay = new Map<number, Uint8Array>();
  private overlayPageCount: number | undefined;
  private counter = 1;
  private cookieShift = 0;
  // The schema cookie SQLite last read or wrote, as it saw it.
  private sqliteCookie: number | undefined;
  // The pages under SQLite were swapped: its schema may be stale at an equal cookie.
  private schemaDoubt = false;
  lsn = 0;
  /** Page reads served to SQLite so far (for per-query instrumentation). */
  reads = 0;
  private readonly budget: PageBudget | undefined;

  /** `cacheBytes` bounds the base of a partial replica (see {@link evict}); default unbounded. */
  constructor(cacheBytes?: number) {
    this.budget = cacheBytes === undefined ? undefined : new PageBudget(cacheBytes);
  }

  pageCount(): number {
    return this.overlayPageCount ?? this.basePageCount;
  }

  /** Whether a read of `pgno` would be served without fetching. */
  holds(pgno: number): boolean {
    return this.overlay.has(pgno) || this.base.has(pgno) || pgno > this.basePageCount;
  }

  read(pgno: number): Uint8Array | undefined {
    this.reads++;
    if (pgno > this.pageCount()) return undefined;
    const page = this.overlay.get(pgno) ?? this.base.get(pgno);
    if (this.budget && page && !this.overlay.has(pgno)) this.budget.touch(pgno);
    if (!page) {
      // Pages past the base's end were never on the server: the overlay grew
      // the file and SQLite will write them before it trusts their content.
      return pgno > this.basePageCount ? new Uint8Array(PAGE_SIZE) : undefined;
    }
    if (pgno !== 1) return page;
    if (this.overlay.has(1)) {
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
    const base = this.base.get(1);
    // Local schema changes are dropped: SQLite holds a schema the base lacks.
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
    this.lsn = lsn;
    this.overlay.clear();
    this.overlayPageCount = undefined;
    this.schemaDoubt = true;
    this.bumpCounter();
  }

  /** Moves the base forward by one commit (or a catch-up range of commits). */
  applyToBase(lsn: number, pageCount: number, pages: Iterable<PageImage>): void {
    for (const { pgno, data } of pages) {
      this.base.set(pgno, data);
      this.budget?.touch(pgno);
    }
    if (pageCount < this.basePageCount) {
      for (const pgno of this.base.keys()) {
        if (pgno <= pageCount) continue;
        this.base.delete(pgno);
        this.budget?.forget(pgno);
      }
    }
    this.basePageCount = pageCount;
    this.lsn = lsn;
    this.bumpCounter();
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
    for (const pgno of pgnos) {
      this.base.delete(pgno);
      this.budget?.forget(pgno);
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

  baseImage(): { lsn: number; pageCount: number; pages: Map<number, Uint8Array> } {
    return { lsn: this.lsn, pageCount: this.basePageCount, pages: this.base };
  }

  private presentedBaseCookie(base1: Uint8Array): number {
    return (readSchemaCookie(base1) + this.cookieShift) >>> 0;
  }

  private bumpCounter(): void {
    this.counter = (this.counter + 1) >>> 0 || 1;
  }
}
