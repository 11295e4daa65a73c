import { QuireError } from '../errors.js';
import { encodeArgs } from '../reducers/args-codec.js';
import type { Reducers } from '../reducers/define-reducers.js';
import { prepareCall } from '../reducers/invoke-reducer.js';
import { reducerTx } from '../reducers/reducer-tx.js';
import type { Row, SqlParams, Tx } from '../reducers/tx.js';
import { ReplicaDb } from '../replica/replica-db.js';
import { PendingQueue, type PendingMutation, type Rejected } from './pending-queue.js';
import { type BaseUpdate, readLastSeq, rebase } from './rebase.js';
import { type ErrorListener, type QueryListener, Subscriptions } from './subscriptions.js';

export interface EngineOptions {
  reducers: Reducers;
  clientId: string;
  userId?: string | undefined;
}

export interface LocalMutation {
  seq: number;
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
  private refreshScheduled = false;
  private closed = false;
  private readonly queue = new PendingQueue();
  private readonly subscriptions = new Subscriptions();
  private readonly stateListeners = new Set<() => void>();

  constructor(private readonly options: EngineOptions) {
    this.tail = ReplicaDb.open().then((db) => {
      this.db = db;
      this.tx = reducerTx(db);
    });
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
    const seq = this.nextSeq++;
    const server = this.queue.add({ seq, name, argsJson });
    const local = this.run((db) => {
      this.apply(db, { seq, name, argsJson });
      this.changed();
    });
    // Fire-and-forget calls are normal: an unobserved rejection must not
    // crash the process. Callers that attach handlers still see it.
    local.catch(() => {});
    server.catch(() => {});
    this.emitState();
    return { seq, local, server };
  }

  /** Rebase onto a server snapshot or commit. */
  applyServerUpdate(update: BaseUpdate, rejections: readonly Rejected[]): Promise<void> {
    return this.run((db) => {
      const bySeq = new Map(rejections.map((r) => [r.seq, r]));
      rebase(db, this.queue, this.options.clientId, update, bySeq, (seq) => {
        const mutation = this.queue.list().find((m) => m.seq === seq)!;
        try {
          this.apply(db, mutation);
        } catch {
          // The server decides; a mutation that fails locally stays pending.
        }
      });
      this.changed();
      this.emitState();
    });
  }

  /** Settles rejections the server reported outside a base update (the base is already current). */
  settleRejections(rejections: readonly Rejected[]): Promise<void> {
    return this.run((db) => {
      const bySeq = new Map(rejections.map((r) => [r.seq, r]));
      this.queue.settleUpTo(readLastSeq(db, this.options.clientId), this.lsn, bySeq);
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
  }

  private apply(db: ReplicaDb, mutation: PendingMutation): void {
    const call = prepareCall(this.options.reducers, mutation.name, mutation.argsJson);
    db.exec('BEGIN');
    try {
      call.run(this.tx!, { clientId: this.options.clientId, seq: mutation.seq, userId: this.options.userId });
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction()) db.exec('ROLLBACK');
      throw error;
    }
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
