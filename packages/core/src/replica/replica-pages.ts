import { PAGE_SIZE, type PageImage, presentHeader, readChangeCounter } from '../page/page.js';
import type { PageFile } from '../vfs/page-file.js';

/**
 * The pages a client replica reads: the server's snapshot (the base) under
 * the pages that local, unconfirmed mutations wrote (the overlay).
 *
 * The base is byte-for-byte what the server has at `lsn`. Page 1 is only
 * rewritten on its way to SQLite (see {@link presentHeader}).
 */
export class ReplicaPages implements PageFile {
  private base = new Map<number, Uint8Array>();
  private basePageCount = 0;
  private overlay = new Map<number, Uint8Array>();
  private overlayPageCount: number | undefined;
  private counter = 1;
  lsn = 0;

  pageCount(): number {
    return this.overlayPageCount ?? this.basePageCount;
  }

  read(pgno: number): Uint8Array | undefined {
    if (pgno > this.pageCount()) return undefined;
    const page = this.overlay.get(pgno) ?? this.base.get(pgno);
    if (!page) {
      // Pages past the base's end were never on the server: the overlay grew
      // the file and SQLite will write them before it trusts their content.
      return pgno > this.basePageCount ? new Uint8Array(PAGE_SIZE) : undefined;
    }
    return pgno === 1 ? presentHeader(page, this.counter) : page;
  }

  write(pgno: number, data: Uint8Array): void {
    this.overlay.set(pgno, data.slice());
    if (pgno === 1) this.counter = readChangeCounter(data);
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
    this.overlay.clear();
    this.overlayPageCount = undefined;
    this.bumpCounter();
  }

  /** Replaces the whole base with a snapshot. */
  resetBase(lsn: number, pageCount: number, pages: Iterable<PageImage>): void {
    this.base = new Map();
    for (const { pgno, data } of pages) this.base.set(pgno, data);
    this.basePageCount = pageCount;
    this.lsn = lsn;
    this.overlay.clear();
    this.overlayPageCount = undefined;
    this.bumpCounter();
  }

  /** Moves the base forward by one commit (or a catch-up range of commits). */
  applyToBase(lsn: number, pageCount: number, pages: Iterable<PageImage>): void {
    for (const { pgno, data } of pages) this.base.set(pgno, data);
    if (pageCount < this.basePageCount) {
      for (const pgno of this.base.keys()) if (pgno > pageCount) this.base.delete(pgno);
    }
    this.basePageCount = pageCount;
    this.lsn = lsn;
    this.bumpCounter();
  }

  /** The base page as the server has it, for comparisons and persistence. */
  basePage(pgno: number): Uint8Array | undefined {
    return this.base.get(pgno);
  }

  baseImage(): { lsn: number; pageCount: number; pages: Map<number, Uint8Array> } {
    return { lsn: this.lsn, pageCount: this.basePageCount, pages: this.base };
  }

  private bumpCounter(): void {
    this.counter = (this.counter + 1) >>> 0 || 1;
  }
}
