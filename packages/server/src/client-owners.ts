import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { setPageCache, startSmallPageCache } from './coordinator/sqlite-page-cache.js';

/** The file in a document's folder that records who owns each of its client ids. */
export const CLIENT_OWNERS_FILE = 'client-owners.sqlite';

/**
 * Which user each client id of one document belongs to: the first userId
 * that said hello with it. Client ids are no secret (every replica holds
 * `__quire_clients`), so without this record any user could push under
 * another's id and take its seqs.
 *
 * It lives in its own file beside the document, never in the document:
 * every client holds the document's pages, and other users' ids are not
 * theirs to read.
 */
export class ClientOwners {
  private readonly find: Database.Statement<[string], string>;
  private readonly insert: Database.Statement<[string, string]>;

  private constructor(private readonly db: Database.Database) {
    this.find = db.prepare<[string], string>('SELECT user_id FROM client_owners WHERE client_id = ?').pluck();
    this.insert = db.prepare<[string, string]>('INSERT INTO client_owners (client_id, user_id) VALUES (?, ?)');
  }

  /** Opens (or creates) the record in the document folder `dir`. */
  static open(dir: string): ClientOwners {
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, CLIENT_OWNERS_FILE));
    // One per open document: a few pages of cache are plenty for one lookup per hello.
    startSmallPageCache(db);
    db.pragma('journal_mode = WAL');
    setPageCache(db, 64);
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS client_owners (client_id TEXT PRIMARY KEY, user_id TEXT NOT NULL) WITHOUT ROWID');
    return new ClientOwners(db);
  }

  /** The user `clientId` is bound to, if any. */
  lookup(clientId: string): string | undefined {
    return this.find.get(clientId);
  }

  /**
   * The user `clientId` belongs to. An unbound id is bound to `userId` first,
   * durably, so the answer is the same after a restart.
   */
  claim(clientId: string, userId: string): string {
    const owner = this.find.get(clientId);
    if (owner !== undefined) return owner;
    this.insert.run(clientId, userId);
    return userId;
  }

  close(): void {
    this.db.close();
  }
}
