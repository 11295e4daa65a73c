import { QuireError } from '../errors.js';
import { ReplicaDb } from '../replica/replica-db.js';
import type { ReplicaPages } from '../replica/replica-pages.js';

/** The replica behind one serial queue: reads, local applies and rebases never interleave. */
export class SerialReplica {
  private db: ReplicaDb | undefined;
  private tail: Promise<unknown>;

  /** Opens the replica; `load` runs first in the queue (e.g. to restore a stored one). */
  constructor(pages: ReplicaPages, load: (db: ReplicaDb) => Promise<void>) {
    this.tail = ReplicaDb.open(pages).then(async (db) => {
      this.db = db;
      await load(db);
    });
  }

  /** The open replica, for reads outside the queue; undefined before it opens and after close. */
  get current(): ReplicaDb | undefined {
    return this.db;
  }

  /** Runs `op` once every earlier one has finished. */
  run<T>(op: (db: ReplicaDb) => T): Promise<T> {
    const next = this.tail.then(() => {
      if (!this.db) throw new QuireError('client_closed', 'the replica is not open');
      return op(this.db);
    });
    this.tail = next.catch(() => {});
    return next;
  }

  /** Closes the replica after everything queued so far. */
  async close(): Promise<void> {
    await this.run((db) => {
      db.close();
      this.db = undefined;
    }).catch(() => {});
  }
}
