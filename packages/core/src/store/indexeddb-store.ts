import { type DBSchema, type IDBPDatabase, deleteDB, openDB } from 'idb';
import { QuireError } from '../errors.js';
import type { BaseChange, ReplicaStore, StoredMutation, StoredReplica } from './replica-store.js';

interface Meta {
  clientId: string;
  lsn: number;
  pageCount: number;
  /** Absent in replicas stored before it existed (always full ones, whose base records it). */
  lastSeq?: number;
}

interface ReplicaSchema extends DBSchema {
  meta: { key: 'replica'; value: Meta };
  pages: { key: number; value: Uint8Array };
  pending: { key: number; value: StoredMutation };
}

const VERSION = 1;

// Relaxed commits survive a tab or browser crash but not a power cut, and
// are several times faster: the pending write gates sending, so its latency
// is on every mutation's path to the server.
const WRITE = { durability: 'relaxed' } as const;

/**
 * A {@link ReplicaStore} in IndexedDB: one database per document, named
 * `quire:<docId>`, shared by every tab and worker of the origin. Works in
 * windows, dedicated and shared workers (OPFS sync handles do not exist in
 * shared workers). `idb` wraps the request/event API in promises.
 */
export class IndexedDbStore implements ReplicaStore {
  private constructor(private readonly db: IDBPDatabase<ReplicaSchema>) {}

  static async open(docId: string): Promise<IndexedDbStore> {
    if (!(globalThis as { indexedDB?: IDBFactory }).indexedDB) {
      throw new QuireError('no_indexeddb', 'IndexedDB is not available here — run the client in a browser, or pass another store');
    }
    const db = await openDB<ReplicaSchema>(databaseName(docId), VERSION, {
      upgrade(db) {
        db.createObjectStore('meta');
        db.createObjectStore('pages');
        db.createObjectStore('pending', { keyPath: 'seq' });
      },
    });
    return new IndexedDbStore(db);
  }

  async load(): Promise<StoredReplica | undefined> {
    const tx = this.db.transaction(['meta', 'pages', 'pending'], 'readonly');
    const meta = await tx.objectStore('meta').get('replica');
    if (!meta) return undefined;
    const [pgnos, datas, pending] = await Promise.all([
      tx.objectStore('pages').getAllKeys(),
      tx.objectStore('pages').getAll(),
      tx.objectStore('pending').getAll(),
    ]);
    return {
      ...meta,
      lastSeq: meta.lastSeq ?? 0,
      pages: pgnos.map((pgno, i) => ({ pgno, data: datas[i]! })),
      pending,
    };
  }

  async init(clientId: string): Promise<void> {
    const tx = this.db.transaction('meta', 'readwrite', WRITE);
    if (!(await tx.store.get('replica'))) await tx.store.put({ clientId, lsn: 0, pageCount: 0, lastSeq: 0 }, 'replica');
    await tx.done;
  }

  async putPending(mutation: StoredMutation): Promise<void> {
    const tx = this.db.transaction('pending', 'readwrite', WRITE);
    void tx.store.put({ seq: mutation.seq, name: mutation.name, argsJson: mutation.argsJson });
    await tx.done;
  }

  async putBase(change: BaseChange): Promise<void> {
    const tx = this.db.transaction(['meta', 'pages', 'pending'], 'readwrite', WRITE);
    const meta = tx.objectStore('meta');
    const pages = tx.objectStore('pages');
    const current = await meta.get('replica');
    if (!current) throw new QuireError('store_not_initialized', 'putBase before init — the engine stores its client id first');
    if (change.kind === 'snapshot') await pages.clear();
    else if (change.pageCount < current.pageCount) await pages.delete(IDBKeyRange.lowerBound(change.pageCount, true));
    for (const pgno of change.dropped ?? []) void pages.delete(pgno);
    for (const { pgno, data } of change.pages) void pages.put(data, pgno);
    if (change.settledThroughSeq > 0) void tx.objectStore('pending').delete(IDBKeyRange.upperBound(change.settledThroughSeq));
    const lastSeq = Math.max(current.lastSeq ?? 0, change.settledThroughSeq);
    void meta.put({ clientId: current.clientId, lsn: change.lsn, pageCount: change.pageCount, lastSeq }, 'replica');
    await tx.done;
  }

  async settle(throughSeq: number): Promise<void> {
    const tx = this.db.transaction(['meta', 'pending'], 'readwrite', WRITE);
    const meta = tx.objectStore('meta');
    const current = await meta.get('replica');
    if (!current) throw new QuireError('store_not_initialized', 'settle before init — the engine stores its client id first');
    void tx.objectStore('pending').delete(IDBKeyRange.upperBound(throughSeq));
    if (throughSeq > (current.lastSeq ?? 0)) void meta.put({ ...current, lastSeq: throughSeq }, 'replica');
    await tx.done;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /**
   * Deletes a document's stored replica. Close every client of the document
   * first: while one is open the deletion waits, and this rejects with
   * `store_in_use` (the deletion still happens once they close).
   */
  static destroy(docId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      void deleteDB(databaseName(docId), {
        blocked: () => reject(new QuireError('store_in_use', `the stored replica of "${docId}" is open — close its clients, then delete it`)),
      }).then(resolve, reject);
    });
  }
}

function databaseName(docId: string): string {
  return `quire:${docId}`;
}
