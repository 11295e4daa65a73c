import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLIENTS_TABLE, CLIENTS_TABLE_DDL, PAGE_SIZE, PARITY_PRAGMAS, type PageImage, interiorChildren } from '@quire/core/internal';
import { QuireError } from '@quire/core';
import type { VolumeMark } from '../log/commit-log.js';
import { readDbFilePages, readDbFilePagesAt } from '../wal/page-file.js';
import { WalCapture, type CapturedCommit } from '../wal/wal-capture.js';
import { rollbackWalTo } from '../wal/wal-recovery.js';
import { NO_COMMIT, writeVolumeMark } from './volume-restore.js';
import { DEFAULT_PAGE_CACHE_KIB, setPageCache, startSmallPageCache } from './sqlite-page-cache.js';
import type { DocumentLock } from './document-lock.js';

/** At most this many structural pages go with a partial snapshot (256 KiB). */
const MAX_STRUCTURAL_PAGES = 64;

export interface VolumeOptions {
  /** Checkpoint once this many pages changed since the last one. Default 2000 (8 MB of WAL). */
  checkpointPages?: number;
  /**
   * Called just before each checkpoint starts. For fault-injection tests:
   * the simulation crashes the server here (tests/simulation).
   */
  beforeCheckpoint?: () => void;
  /**
   * The most each open document's SQLite connection keeps in its page
   * cache, in KiB. It grows as pages are read; a small document uses a few
   * pages. Default 2048 (SQLite's own default; better-sqlite3's is 16 MB).
   */
  pageCacheKib?: number;
  /**
   * After this long without a batch (ms), the volume empties its page cache
   * (see {@link DocumentVolume.wake}). Default 1000.
   */
  restAfterMs?: number;
}

/** The default of {@link VolumeOptions.restAfterMs}. */
export const REST_AFTER_MS = 1000;

/**
 * A document's authoritative SQLite database. It runs in WAL mode with
 * automatic checkpoints off, so every commit's pages can be read back from
 * the WAL before the volume decides to checkpoint.
 */
export class DocumentVolume {
  /** Current images of pages changed since the last checkpoint (the db file has the rest). */
  private readonly walPages = new Map<number, Uint8Array>();
  private readonly dbPath: string;
  pageCount = 0;
  /** Commits were captured that the sidecar mark (volume-restore.ts) does not cover yet. */
  private unmarked = false;
  /** Set while the page cache is emptied (see {@link wake}). */
  private resting = false;
  private restTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly db: Database.Database,
    private readonly wal: WalCapture,
    private readonly dir: string,
    private readonly options: VolumeOptions,
  ) {
    this.dbPath = join(dir, 'document.sqlite');
  }

  /**
   * Opens (or creates) the volume in `dir`. `durable` is where the WAL stood
   * after the last commit the log made durable: anything later was never
   * acknowledged and is discarded, so the volume matches the log.
   *
   * Given the document's `lock`, taken before anything was read, it moves
   * the lock onto its own connection once it is open (see
   * `DocumentLock.moveTo`), so the document holds one SQLite connection.
   */
  static open(dir: string, durable: VolumeMark | null, options: VolumeOptions = {}, lock?: DocumentLock): DocumentVolume {
    mkdirSync(dir, { recursive: true });
    const dbPath = join(dir, 'document.sqlite');
    const fresh = !existsSync(dbPath);
    rollbackWalTo(`${dbPath}-wal`, durable);
    const db = new Database(dbPath);
    startSmallPageCache(db);
    db.pragma('page_size = 4096');
    db.pragma('journal_mode = WAL');
    // No fsync per commit: the commit log is the durable record, and a WAL
    // that lost commits the log has is rebuilt from it at open (see
    // `volumeState`). NORMAL, not OFF: in WAL mode it still syncs the WAL
    // before a checkpoint and the db file after it, which `document.mark` relies on.
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    // The same rules the client's SQLite runs reducers with.
    for (const pragma of PARITY_PRAGMAS) db.pragma(pragma);
    const hasClients = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = ?`).get(CLIENTS_TABLE);
    setPageCache(db, options.pageCacheKib ?? DEFAULT_PAGE_CACHE_KIB);
    if (!hasClients) {
      if (durable) {
        db.close();
        throw new QuireError('corrupt_volume', `document in ${dir} has commits in its log but no ${CLIENTS_TABLE} table — restore it from a backup`);
      }
      // LSN 0: an empty document with the exactly-once table, checkpointed
      // so it is in the db file and not in the WAL.
      db.exec(CLIENTS_TABLE_DDL);
      checkpoint(db);
      writeVolumeMark(dir, NO_COMMIT);
    }
    if (fresh && db.pragma('page_size', { simple: true }) !== PAGE_SIZE) {
      throw new QuireError('bad_page_size', `document in ${dir} does not use ${PAGE_SIZE}-byte pages`);
    }
    const volume = new DocumentVolume(db, new WalCapture(`${dbPath}-wal`, { pageSize: PAGE_SIZE }), dir, options);
    try {
      lock?.moveTo(db);
    } catch (error) {
      // Another process may own the document now: close without the checkpoint a close would write.
      volume.discard();
      throw error;
    }
    // Commits already in the WAL are durable (recovery kept only those); learn their pages.
    for (const commit of volume.wal.poll()) volume.remember(commit);
    volume.pageCount = db.pragma('page_count', { simple: true }) as number;
    volume.restLater();
    return volume;
  }

  /**
   * Reads the commit a just-finished transaction appended to the WAL, with
   * the images its pages had before it (absent for pages it added): every
   * client at the previous LSN holds those, so it can be sent deltas.
   */
  capture(withPrevious = true): { commit: CapturedCommit; mark: VolumeMark; previous: Map<number, Uint8Array> } | undefined {
    const commits = this.wal.poll();
    if (commits.length === 0) return undefined;
    if (commits.length > 1) throw new QuireError('internal', `expected one WAL commit per batch, found ${commits.length}`);
    const commit = commits[0]!;
    const previous = new Map(withPrevious ? this.pages(commit.pages.keys()).map((page) => [page.pgno, page.data]) : []);
    this.remember(commit);
    return { commit, mark: commit.end, previous };
  }

  /** The position after the last captured commit. */
  mark(): VolumeMark {
    return this.wal.position();
  }

  /** Every page of the document at its current (durable) state. */
  snapshot(): PageImage[] {
    const file = readDbFilePages(this.dbPath, this.pageCount, PAGE_SIZE);
    const pages: PageImage[] = [];
    for (let pgno = 1; pgno <= this.pageCount; pgno++) {
      const data = this.walPages.get(pgno) ?? file.subarray((pgno - 1) * PAGE_SIZE, pgno * PAGE_SIZE);
      pages.push({ pgno, data });
    }
    return pages;
  }

  /**
   * The pages every read of a cold partial client needs first: the whole
   * schema b-tree (SQLite loads all of it) and the root of every other
   * b-tree. Sent with the snapshot, they save a lookup one round trip per
   * b-tree, at a cost that does not grow with the document.
   */
  structuralPages(limit = MAX_STRUCTURAL_PAGES): PageImage[] {
    const out = new Map<number, PageImage>();
    const walk = (pgno: number) => {
      if (out.size >= limit || out.has(pgno) || pgno > this.pageCount) return;
      const [page] = this.pages([pgno]);
      if (!page) return;
      out.set(pgno, page);
      for (const child of interiorChildren(page.data, pgno) ?? []) walk(child);
    };
    walk(1);
    const roots = this.db.prepare('SELECT rootpage FROM sqlite_schema WHERE rootpage > 0 ORDER BY rootpage').pluck().all() as number[];
    const missing = roots.filter((pgno) => !out.has(pgno) && pgno <= this.pageCount).slice(0, Math.max(0, limit - out.size));
    for (const page of this.pages(missing)) out.set(page.pgno, page);
    return [...out.values()].sort((a, b) => a.pgno - b.pgno);
  }

  /** The current images of the given pages (those from 1 to the page count). */
  pages(pgnos: Iterable<number>): PageImage[] {
    const wanted = [...pgnos].filter((p) => p >= 1 && p <= this.pageCount).sort((a, b) => a - b);
    if (wanted.length === 0) return [];
    const missing = wanted.filter((p) => !this.walPages.has(p));
    // Most commits change pages changed since the last checkpoint: no file access then.
    const fromFile = missing.length > 0 ? readDbFilePagesAt(this.dbPath, missing, PAGE_SIZE) : new Map<number, Uint8Array>();
    return wanted.map((pgno) => ({ pgno, data: this.walPages.get(pgno) ?? fromFile.get(pgno)! }));
  }

  /**
   * Call before a batch (and before other heavy use of `db`). A volume with
   * no batch for `restAfterMs` empties its page cache: for a small document
   * that is about 80 KB, the cache's preallocated block and its pages, while
   * its clients stay connected. The OS still caches the file, so the batch
   * after a rest rereads its pages from memory. Waking, a first read
   * preallocates a few pages only (see startSmallPageCache), then the cache
   * gets its limit back.
   */
  wake(): void {
    this.restLater();
    if (!this.resting) return;
    this.db.pragma('schema_version');
    setPageCache(this.db, this.options.pageCacheKib ?? DEFAULT_PAGE_CACHE_KIB);
    this.resting = false;
  }

  private restLater(): void {
    if (this.restTimer) {
      this.restTimer.refresh();
      return;
    }
    this.restTimer = setTimeout(() => this.rest(), this.options.restAfterMs ?? REST_AFTER_MS);
    this.restTimer.unref();
  }

  private rest(): void {
    this.restTimer = undefined;
    if (this.resting || !this.db.open || this.db.inTransaction) return;
    startSmallPageCache(this.db);
    this.resting = true;
  }

  /** Whether the WAL has grown past the checkpoint threshold. */
  get checkpointDue(): boolean {
    return this.walPages.size >= (this.options.checkpointPages ?? 2000);
  }

  /** Checkpoints when the WAL has grown past the threshold. Call only when every commit is durable. */
  maybeCheckpoint(): boolean {
    if (!this.checkpointDue) return false;
    return this.checkpoint();
  }

  checkpoint(): boolean {
    // Poll first: a checkpoint can restart the WAL over frames not yet read.
    for (const commit of this.wal.poll()) this.remember(commit);
    this.options.beforeCheckpoint?.();
    if (!checkpoint(this.db)) return false;
    this.walPages.clear();
    this.markCheckpointed();
    return true;
  }

  close(): void {
    clearTimeout(this.restTimer);
    for (const commit of this.wal.poll()) this.remember(commit);
    this.db.close();
    this.wal.close();
    // The last connection's close checkpoints and deletes the WAL; if it could not, the WAL still holds the commits.
    if (!existsSync(`${this.dbPath}-wal`)) this.markCheckpointed();
  }

  /**
   * Closes without checkpointing, after an internal error: the WAL may hold
   * a commit the log never made durable, which a normal close would copy
   * into the db file. The next `open` rolls the WAL back to the log. Throws
   * (and leaves the volume open) if it cannot close safely.
   */
  discard(): void {
    clearTimeout(this.restTimer);
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    // SQLite checkpoints on close only as the last connection, and a
    // read-only connection never checkpoints: close under a read-only one.
    const guard = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      // Its first read takes the shared lock that keeps the close from checkpointing.
      guard.prepare('SELECT count(*) FROM sqlite_schema').get();
      this.db.close();
    } finally {
      guard.close();
    }
    this.wal.close();
  }

  /** The db file now holds every captured commit: say so in the sidecar, so a later open can trust it without the WAL. */
  private markCheckpointed(): void {
    if (!this.unmarked) return;
    // SQLite synced the db file at the end of the checkpoint (synchronous=NORMAL), so the mark never names pages not on disk.
    writeVolumeMark(this.dir, this.wal.position());
    this.unmarked = false;
  }

  private remember(commit: CapturedCommit): void {
    this.unmarked = true;
    for (const [pgno, data] of commit.pages) this.walPages.set(pgno, data);
    this.pageCount = commit.pageCount;
    for (const pgno of this.walPages.keys()) if (pgno > commit.pageCount) this.walPages.delete(pgno);
  }
}

/** Runs a TRUNCATE checkpoint; false when SQLite reports it could not finish. */
function checkpoint(db: Database.Database): boolean {
  // main: the connection also has `server.lock` attached (see DocumentLock.moveTo), which has no WAL.
  const [row] = db.pragma('main.wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
  return row !== undefined && row.busy === 0;
}
