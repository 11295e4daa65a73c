import { join } from 'node:path';
import Database from 'better-sqlite3';
import { QuireError } from '@quire/core';

/** The file in a document's folder whose lock says a process has the document open. */
export const LOCK_FILE = 'server.lock';

/**
 * Says that one process has a document open, so that `quire compact` (or a
 * second server on the same data directory) does not write under it.
 *
 * The lock is an open EXCLUSIVE SQLite transaction on `server.lock`: an OS
 * file lock, so it ends with the process that holds it, even on SIGKILL; a
 * pid file would outlive a crash and could name a reused pid.
 */
export class DocumentLock {
  private constructor(private readonly db: Database.Database) {}

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
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new QuireError('document_locked', `the document in ${dir} is open in another process (it holds ${LOCK_FILE}) — stop that server, or wait until it has closed the document (30 s after its last client left), then try again`, { cause: error });
      }
      throw error;
    }
    return new DocumentLock(db);
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

  release(): void {
    if (this.db.open) this.db.close();
  }
}
