import { join } from 'node:path';
import Database from 'better-sqlite3';
import { QuireError } from '@quire/core';

/** The file in a document's folder whose lock says a process has the document open. */
export const LOCK_FILE = 'server.lock';

/** The name `server.lock` is attached under on the volume's connection (see {@link DocumentLock.moveTo}). */
export const LOCK_SCHEMA = 'quire_lock';

/**
 * Says that one process has a document open, so that `quire compact` (or a
 * second server on the same data directory) does not write under it.
 *
 * The lock is SQLite's lock on `server.lock`: an OS file lock, so
 * it ends with the process that holds it, even on SIGKILL; a pid file would
 * outlive a crash and could name a reused pid. SQLite also keeps two
 * connections of one process apart, so a second server in the same process
 * is refused too.
 *
 * It is taken on a connection of its own (an open EXCLUSIVE transaction)
 * while the document opens, then moved onto the volume's connection
 * ({@link moveTo}): a SQLite connection costs about 70 KB however little it
 * does (48 KB of it lookaside, which better-sqlite3 cannot turn off), and an
 * open document needs the volume's anyway.
 */
export class DocumentLock {
  private constructor(
    private readonly dir: string,
    private own: Database.Database | undefined,
  ) {}

  /** Takes the lock, or throws `document_locked` at once if another holds it. */
  static acquire(dir: string): DocumentLock {
    const db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
    try {
      // No page cache: the lock never reads a page, and SQLite would preallocate 87 KB for one (see startSmallPageCache).
      db.pragma('cache_size = 0');
      // No journal file: the lock writes nothing, and a DELETE journal holds one more file open per open document.
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      throw lockError(dir, error);
    }
    return new DocumentLock(dir, db);
  }

  /** Whether another process holds the lock now (without taking it). */
  static isHeld(dir: string): boolean {
    try {
      DocumentLock.acquire(dir).release();
      return false;
    } catch (error) {
      if ((error as QuireError).code === 'document_locked') return true;
      throw error;
    }
  }

  /**
   * Moves the lock onto `db`, the document's volume, which then holds it
   * until it closes: `server.lock` is attached there in EXCLUSIVE locking
   * mode, and a read of it takes the lock for good. The lock's own
   * connection closes first (SQLite keeps two connections of a process
   * apart too), so for a moment no one holds it: another process that takes
   * it then makes this throw `document_locked`, and the caller must close
   * `db` without writing (it wrote nothing under this process's lock that
   * the other could not read).
   */
  moveTo(db: Database.Database): void {
    if (!this.own) throw new QuireError('internal', `the lock on ${this.dir} was already moved or released`);
    this.own.close();
    this.own = undefined;
    try {
      db.prepare(`ATTACH ? AS ${LOCK_SCHEMA}`).run(join(this.dir, LOCK_FILE));
      db.pragma(`${LOCK_SCHEMA}.cache_size = 0`);
      db.pragma(`${LOCK_SCHEMA}.locking_mode = EXCLUSIVE`);
      // In EXCLUSIVE locking mode the SHARED lock of the first read is never
      // given back. That is enough: every taker asks for an EXCLUSIVE lock
      // (acquire), which no one gets while another process reads. Nothing is
      // written (a batch begins deferred, so it writes only the databases it
      // changes), and server.lock stays an empty file that no crash can tear.
      db.prepare(`SELECT count(*) FROM ${LOCK_SCHEMA}.sqlite_schema`).get();
    } catch (error) {
      if ((db.pragma('database_list') as Array<{ name: string }>).some((row) => row.name === LOCK_SCHEMA)) db.exec(`DETACH ${LOCK_SCHEMA}`);
      throw lockError(this.dir, error);
    }
  }

  /** Gives the lock back, unless it was moved: then it goes when that connection closes. */
  release(): void {
    if (this.own?.open) this.own.close();
    this.own = undefined;
  }
}

function lockError(dir: string, error: unknown): unknown {
  if ((error as { code?: string }).code !== 'SQLITE_BUSY') return error;
  return new QuireError('document_locked', `the document in ${dir} is open in another process (it holds ${LOCK_FILE}) — stop that server, or wait until it has closed the document (30 s after its last client left), then try again`, { cause: error });
}
