import type Database from 'better-sqlite3';

/** The most a document's SQLite connection keeps in its page cache, by default: SQLite's own default. */
export const DEFAULT_PAGE_CACHE_KIB = 2048;

/**
 * Pages a transaction may dirty before SQLite writes some of them to the WAL
 * ahead of its commit: better-sqlite3's 16 MB cache, which set that point
 * until the cache became smaller. Kept, so that a smaller cache changes
 * memory only, never what reaches the WAL.
 */
const SPILL_PAGES = 4000;

/**
 * Call first on a new connection, before anything reads the database, and
 * to empty the cache of a resting one (DocumentVolume.wake).
 *
 * SQLite preallocates min(20, cache size) pages in one block (87 KB) at a
 * connection's first read, and frees that block only when the cache
 * empties; a small document never fills it, and a server holds one per
 * open document. The first pragma reads the schema itself, so: a cache of
 * 0 (the block is freed once the read is over), then of 3 (the next read
 * preallocates 3 pages). {@link setPageCache} raises the limit afterwards;
 * pages past the block are allocated one at a time, as they are read.
 */
export function startSmallPageCache(db: Database.Database): void {
  db.pragma('cache_size = 0');
  db.pragma('cache_size = 3');
}

/** The page cache limit once the first read is done (see {@link startSmallPageCache}). */
export function setPageCache(db: Database.Database, kib: number): void {
  db.pragma(`cache_size = ${-Math.max(16, Math.floor(kib))}`);
  db.pragma(`cache_spill = ${SPILL_PAGES}`);
}
