import { QuireError } from '../errors.js';
import { encodeArgs } from '../reducers/args-codec.js';
import type { Reducers } from '../reducers/define-reducers.js';
import { prepareCall } from '../reducers/invoke-reducer.js';
import { reducerTx } from '../reducers/reducer-tx.js';
import type { Row, SqlParams, Tx } from '../reducers/tx.js';
import { ReplicaDb } from '../replica/replica-db.js';
import type { ReplicaStore, StoredReplica } from '../store/replica-store.js';
import { PendingQueue, type PendingMutation, type Rejected } from './pending-queue.js';
import { type BaseUpdate, readLastSeq, rebase } from './rebase.js';
import { type ErrorListener, type QueryListener, Subscriptions } from './subscriptions.js';

export interface EngineOptions {
  reducers: Reducers;
  /** The id for a new replica; a stored replica keeps the id it was stored with. */
  clientId: string;
  userId?: string | undefined;
  /** Keeps the base and the pending mutations across restarts. */
  store?: ReplicaStore | undefined;
}

export interface LocalMutation {
  /** Assigned when the mutation is queued: at once, or after a stored replica has loaded. */
  readonly seq: number;
  local: Promise<void>;
  server: Promise<{ lsn: number }>;
}

/**
 * The client engine, free of sockets and timers: a replica, the pending
 * queue, rebase and live queries. Every operation on the replica runs in one
 * serial queue, so reads and writes never interleave.
 */
export class Engine {
  private db: ReplicaDb | undefined;
  private tx: Tx | undefined;
  private tail: Promise<unknown>;
  private nextSeq = 1;
  // Seqs can be handed out once a stored replica has loaded (at once without a store).
  private seqsKnown: boolean;
  // Highest seq whose store write finished; a mutation is sent only once it
  // is durable, or a crash could reuse a seq the server already applied.
  private durableSeq = Number.POSITIVE_INFINITY;
  private storeFailure: QuireError | undefined;
  private id: string;
  private refreshScheduled = false;
  private closed = false;
  private readonly queue = new PendingQueue();
  private readonly subscriptions = new Subscriptions();
  private readonly stateListeners = new Set<() => void>();

  constructor(private options: EngineOptions) {
    this.id = options.clientId;
    this.seqsKnown = !options.store;
    if (options.store) this.durableSeq = 0;
    this.tail = ReplicaDb.open().then(async (db) => {
      this.db = db;
      this.tx = reducerTx(db);
      if (options.store) await this.restore(db, options.store);
    });
  }

  /** This replica's client id (a stored replica's, once `ready()` resolved). */
  get clientId(): string {
    return this.id;
  }

  /** Set when the store failed to write: local changes may not survive a restart. */
  get storeError(): QuireError | undefined {
    return this.storeFailure;
  }

  /** Resolves once the replica is open. */
  ready(): Promise<void> {
    return this.run(() => undefined);
  }

  get lsn(): number {
    return this.db?.pages.lsn ?? 0;
  }

  get pendingCount(): number {
    return this.queue.size;
  }

  pending(): readonly PendingMutation[] {
    return this.queue.list();
  }

  /** Pending mutations that may go to the server: the ones already durable in the store. */
  sendable(): readonly PendingMutation[] {
    const all = this.queue.list();
    if (this.durableSeq === Number.POSITIVE_INFINITY) return all;
    return all.filter((m) => m.seq <= this.durableSeq);
  }

  lowestPendingSeq(): number {
    return this.queue.lowestSeq();
  }

  /** Queues a reducer call, applies it to the replica, and returns its promises. */
  mutate(name: string, args: unknown): LocalMutation {
    const argsJson = encodeArgs(args);
    try {
      // Check the name and the arguments before anything is queued or written.
      prepareCall(this.options.reducers, name, argsJson);
    } catch (error) {
      return { seq: 0, local: Promise.reject(error), server: Promise.reject(error) };
    }
    if (this.closed) {
      const error = new QuireError('client_closed', 'this client is closed — create a new client to make changes');
      return { seq: 0, local: Promise.reject(error), server: Promise.reject(error) };
    }
    let settle!: { resolve(result: { lsn: number }): void; reject(error: Error): void };
    const server = new Promise<{ lsn: number }>((resolve, reject) => (settle = { resolve, reject }));
    const handle: { seq: number; local: Promise<void>; server: Promise<{ lsn: number }> } = { seq: 0, local: Promise.resolve(), server };
    const enqueue = () => {
      handle.seq = this.nextSeq++;
      const mutation = { seq: handle.seq, name, argsJson };
      this.queue.add(mutation).then(settle.resolve, settle.reject);
      this.persist(mutation);
      return mutation;
    };
    const queued = this.seqsKnown ? enqueue() : undefined;
    handle.local = this.run((db) => {
      this.apply(db, queued ?? enqueue());
      this.changed();
      if (!queued) this.emitState();
    });
    // Fire-and-forget calls are normal: an unobserved rejection must not
    // crash the process. Callers that attach handlers still see it.
    handle.local.catch(() => {});
    server.catch(() => {});
    if (queued) this.emitState();
    return handle;
  }

  /** Rebase onto a server snapshot or commit. */
  applyServerUpdate(update: BaseUpdate, rejections: readonly Rejected[]): Promise<void> {
    return this.run((db) => {
      const bySeq = new Map(rejections.map((r) => [r.seq, r]));
      const { lastSeq } = rebase(db, this.queue, this.id, update, bySeq, (seq) => {
        const mutation = this.queue.list().find((m) => m.seq === seq)!;
        try {
          this.apply(db, mutation);
        } catch {
          // The server decides; a mutation that fails locally stays pending.
        }
      });
      this.options.store?.putBase({ ...update, settledThroughSeq: lastSeq }).catch((error) => this.storeFailed(error));
      this.changed();
      this.emitState();
    });
  }

  /** Settles rejections the server reported outside a base update (the base is already current). */
  settleRejections(rejections: readonly Rejected[]): Promise<void> {
    return this.run((db) => {
      const bySeq = new Map(rejections.map((r) => [r.seq, r]));
      this.queue.settleUpTo(readLastSeq(db, this.id), this.lsn, bySeq);
      this.emitState();
    });
  }

  query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<R[]> {
    return this.run((db) => db.query<R>(sql, params));
  }

  subscribe<R extends Row = Row>(sql: string, params: SqlParams | undefined, listener: QueryListener<R>, onError?: ErrorListener): () => void {
    const unsubscribe = this.subscriptions.add(sql, params, listener as QueryListener, onError);
    this.changed();
    return unsubscribe;
  }

  /** Called whenever `lsn` or `pendingCount` may have changed. */
  subscribeState(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => void this.stateListeners.delete(listener);
  }

  /** Runs `fn` against the replica in the serial queue (tests and tools read the base through it). */
  withReplica<T>(fn: (db: ReplicaDb) => T): Promise<T> {
    return this.run(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.failAll(new QuireError('client_closed', 'the client was closed before the server confirmed this mutation — it may or may not have been applied'));
    await this.run((db) => {
      db.close();
      this.db = undefined;
    }).catch(() => {});
    await this.options.store?.close();
  }

  private apply(db: ReplicaDb, mutation: PendingMutation): void {
    const call = prepareCall(this.options.reducers, mutation.name, mutation.argsJson);
    db.exec('BEGIN');
    try {
      call.run(this.tx!, { clientId: this.id, seq: mutation.seq, userId: this.options.userId });
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction()) db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Puts a stored replica back: its base, then its pending mutations replayed on top. */
  private async restore(db: ReplicaDb, store: ReplicaStore): Promise<void> {
    let stored: StoredReplica | undefined;
    try {
      stored = await store.load();
      if (!stored) await store.init(this.id);
    } catch (error) {
      // Unusable storage (private mode, quota, a broken database): run in memory.
      this.storeFailed(error);
      this.options = { ...this.options, store: undefined };
      this.durableSeq = Number.POSITIVE_INFINITY;
      this.seqsKnown = true;
      return;
    }
    if (stored) {
      this.id = stored.clientId;
      if (stored.lsn > 0) db.pages.resetBase(stored.lsn, stored.pageCount, stored.pages);
      // The base may already hold some stored mutations: a crash came between
      // settling them and dropping them from the store.
      const lastSeq = readLastSeq(db, this.id);
      for (const mutation of stored.pending) {
        if (mutation.seq <= lastSeq) continue;
        this.queue.add(mutation).catch(() => {});
        try {
          this.apply(db, mutation);
        } catch {
          // As in rebase: the server decides.
        }
      }
      this.nextSeq = Math.max(lastSeq, ...stored.pending.map((m) => m.seq)) + 1;
    }
    this.durableSeq = this.nextSeq - 1;
    this.seqsKnown = true;
    this.changed();
    this.emitState();
  }

  private persist(mutation: PendingMutation): void {
    const store = this.options.store;
    if (!store) return;
    store.putPending(mutation).then(
      () => {
        // Writes complete in call order, so everything up to here is durable.
        this.durableSeq = Math.max(this.durableSeq, mutation.seq);
        this.emitState();
      },
      (error) => {
        // Keep syncing: losing the local copy beats never sending the change.
        this.durableSeq = Math.max(this.durableSeq, mutation.seq);
        this.storeFailed(error);
      },
    );
  }

  private storeFailed(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.storeFailure = new QuireError('store_failed', `could not save the local replica (${reason}) — changes still sync, but may not survive a restart; check the browser's storage quota`);
    this.emitState();
  }

  private changed(): void {
    if (this.refreshScheduled || this.subscriptions.size === 0) return;
    this.refreshScheduled = true;
    void this.run((db) => {
      this.refreshScheduled = false;
      this.subscriptions.refresh((sql, params) => db.query(sql, params));
    }).catch(() => {});
  }

  private emitState(): void {
    for (const listener of [...this.stateListeners]) listener();
  }

  private run<T>(op: (db: ReplicaDb) => T): Promise<T> {
    const next = this.tail.then(() => {
      if (!this.db) throw new QuireError('client_closed', 'the replica is not open');
      return op(this.db);
    });
    this.tail = next.catch(() => {});
    return next;
  }
}
