import { QuireError } from '../errors.js';
import type { PageImage } from '../page/page.js';
import { encodeArgs } from '../reducers/args-codec.js';
import type { Reducers } from '../reducers/define-reducers.js';
import { prepareCall } from '../reducers/invoke-reducer.js';
import { reducerTx } from '../reducers/reducer-tx.js';
import type { Row, SqlParams, Tx } from '../reducers/tx.js';
import { PageFault, ReplicaDb } from '../replica/replica-db.js';
import { ReplicaPages } from '../replica/replica-pages.js';
import type { ReplicaStore, StoredReplica } from '../store/replica-store.js';
import { PendingQueue, type PendingMutation, type Rejected } from './pending-queue.js';
import { PrefetchPlanner, type ReadHistory, newReadHistory } from './prefetch.js';
import { type BaseUpdate, moveBase, readLastSeq } from './rebase.js';
import { type ErrorListener, type QueryListener, Subscriptions } from './subscriptions.js';

export interface EngineOptions {
  reducers: Reducers;
  /** The id for a new replica; a stored replica keeps the id it was stored with. */
  clientId: string;
  userId?: string | undefined;
  /** Keeps the base and the pending mutations across restarts. */
  store?: ReplicaStore | undefined;
  /**
   * Fetches base pages a partial replica lacks; resolves once they were
   * applied with {@link Engine.applyPages}. Rejects (e.g. offline) to fail
   * the reads that need them. Without it every page must be in the base.
   */
  fetchPages?: ((pgnos: number[]) => Promise<void>) | undefined;
  /** Fetch the pages a scan will want next along with its misses. Default true. */
  prefetch?: boolean | undefined;
  /** Bytes of base pages a partial replica keeps; least recently used ones go first. Default unbounded. */
  cacheSize?: number | undefined;
  /** Told which base pages the cache dropped (the server stops sending their changes). */
  onEvict?: ((pgnos: number[]) => void) | undefined;
}

/** What one read cost: pages SQLite read, pages fetched for it, and round trips. */
export interface QueryStats {
  pagesRead: number;
  pagesFetched: number;
  roundTrips: number;
}

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

/** A pending mutation not yet applied on the current base, and its `local` promise if still open. */
interface Unapplied {
  mutation: PendingMutation;
  local: Deferred | undefined;
}

// A read that misses the same pages after this many fetches gives up.
const MAX_SAME_FAULT = 8;

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
  // Pending mutations to (re)apply on the current base, in seq order: new
  // calls, and everything after a rebase. A page fault pauses them until the
  // pages arrive, so the overlay always holds a prefix of the queue in order.
  private unapplied: Unapplied[] = [];
  // Set after a base update until this client's last_seq could be read from
  // it (a partial base may first need the page holding it).
  private settling: { lsn: number; rejections: Map<number, Rejected> } | undefined;
  // The last seq the base was seen to contain, and the highest the store was told about.
  private baseLastSeq = 0;
  private storedLastSeq = 0;
  private settlingWithBase = false;
  private readonly planner: PrefetchPlanner;
  // Misses of the live-query refresh and of the local applies, across their fetch rounds.
  private refreshHistory = newReadHistory();
  private repairHistory = newReadHistory();
  // Reads waiting for pages: while any is, nothing is evicted, or a read
  // larger than the cache could lose its pages before it runs again.
  private readsWaiting = 0;
  // Set while local applies wait for pages that could not be fetched (the
  // client is offline): reads and live queries report it rather than rows
  // that silently lack the user's edits.
  private blocked: QuireError | undefined;
  private closed = false;
  private readonly queue = new PendingQueue();
  private readonly subscriptions = new Subscriptions();
  private readonly stateListeners = new Set<() => void>();

  constructor(private options: EngineOptions) {
    this.id = options.clientId;
    this.planner = new PrefetchPlanner(options.prefetch ?? true);
    this.seqsKnown = !options.store;
    if (options.store) this.durableSeq = 0;
    this.tail = ReplicaDb.open(new ReplicaPages(options.cacheSize)).then(async (db) => {
      this.db = db;
      this.tx = reducerTx(db);
      if (options.store) await this.restore(db, options.store);
    });
  }

  /** This replica's client id (a stored replica's, once `ready()` resolved). */
  get clientId(): string {
    return this.id;
  }

  /** Set while local changes cannot apply for want of pages the client cannot fetch (offline). */
  get applyError(): QuireError | undefined {
    return this.blocked;
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
    let local!: Deferred;
    handle.local = new Promise<void>((resolve, reject) => (local = { resolve, reject }));
    this.run((db) => {
      this.unapplied.push({ mutation: queued ?? enqueue(), local });
      this.repair(db);
      if (!queued) this.emitState();
    }).catch((error) => local.reject(error));
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
      if (update.kind === 'snapshot') this.planner.forget();
      const { pages, dropped } = moveBase(db, update);
      this.planner.learn(pages);
      // Every pending mutation is re-applied on the new base, in order.
      const open = new Map(this.unapplied.map((entry) => [entry.mutation.seq, entry.local]));
      this.unapplied = this.queue.list().map((mutation) => ({ mutation, local: open.get(mutation.seq) }));
      this.settleAt(update.lsn, rejections);
      // The store settles with the base write (one transaction); if the page
      // recording it is missing, repair() settles the store once it arrives.
      this.settlingWithBase = true;
      let lastSeq: number | undefined;
      try {
        lastSeq = this.repair(db);
      } finally {
        this.settlingWithBase = false;
      }
      if (lastSeq !== undefined) this.storedLastSeq = Math.max(this.storedLastSeq, lastSeq);
      const { kind, lsn, pageCount } = update;
      this.options.store?.putBase({ kind, lsn, pageCount, pages, dropped, settledThroughSeq: lastSeq ?? 0 }).catch((error) => this.storeFailed(error));
      this.emitState();
    });
  }

  /** Adds fetched pages to a partial base; pages as of another LSN than the base's are dropped. */
  applyPages(lsn: number, pageCount: number, pages: readonly PageImage[]): Promise<void> {
    return this.run((db) => {
      if (lsn !== db.pages.lsn || pageCount !== db.pages.baseImage().pageCount) return;
      db.pages.addBasePages(pages);
      this.planner.learn(pages);
      this.options.store?.putBase({ kind: 'commit', lsn, pageCount, pages, settledThroughSeq: 0 }).catch((error) => this.storeFailed(error));
    });
  }

  /** Retries reads and local applies that failed for want of pages (call when back online). */
  resume(): void {
    void this.run((db) => {
      this.repair(db);
    }).catch(() => {});
  }

  /** Settles rejections the server reported outside a base update (the base is already current). */
  settleRejections(rejections: readonly Rejected[]): Promise<void> {
    return this.run((db) => {
      this.settleAt(this.lsn, rejections);
      this.repair(db);
      this.emitState();
    });
  }

  async query<R extends Row = Row>(sql: string, params?: SqlParams): Promise<R[]> {
    return (await this.measure<R>(sql, params)).rows;
  }

  /** Runs a read-only query and reports what it cost. */
  async measure<R extends Row = Row>(sql: string, params?: SqlParams): Promise<{ rows: R[]; stats: QueryStats }> {
    const history = newReadHistory();
    const stats: QueryStats = { pagesRead: 0, pagesFetched: 0, roundTrips: 0 };
    let stuck = 0;
    let last = '';
    for (;;) {
      try {
        return await this.run((db) => {
          if (this.blocked) throw this.blocked;
          if (stats.roundTrips === 0) this.evict(db);
          const before = db.pages.reads;
          const rows = db.read<R>(sql, params);
          stats.pagesRead = db.pages.reads - before;
          return { rows, stats };
        });
      } catch (error) {
        if (!(error instanceof PageFault)) throw error;
        // Each round normally misses new pages; the same miss again and again
        // means the pages never arrive (answers as of another LSN, say).
        const key = error.pages.join(',');
        stuck = key === last ? stuck + 1 : 0;
        last = key;
        if (stuck >= MAX_SAME_FAULT) throw new QuireError('missing_pages', `pages ${key} were fetched ${stuck} times and are still missing — the replica cannot follow the server; reopen the client`);
        const plan = await this.run((db) => this.plan(db, error.pages, history));
        stats.roundTrips++;
        stats.pagesFetched += plan.length;
        this.readsWaiting++;
        try {
          await this.fetch(plan);
        } finally {
          this.readsWaiting--;
        }
      }
    }
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
      for (const mutation of stored.pending) {
        this.queue.add(mutation).catch(() => {});
        this.unapplied.push({ mutation, local: undefined });
      }
      if (stored.lsn > 0) {
        db.pages.resetBase(stored.lsn, stored.pageCount, stored.pages);
        this.planner.learn(stored.pages);
        // The base may already hold some stored mutations (a crash came
        // between settling them and dropping them from the store): settle
        // like after an update, once the page that records it is here.
        this.settleAt(stored.lsn, []);
      }
      this.storedLastSeq = stored.lastSeq;
    }
    this.repair(db);
    // Above everything the server may have applied: what the base records
    // (if its page is held), what the store saw settled, what it still queues.
    this.nextSeq = Math.max(this.baseLastSeq, this.storedLastSeq, ...(stored?.pending.map((m) => m.seq) ?? [])) + 1;
    this.durableSeq = this.nextSeq - 1;
    this.seqsKnown = true;
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
    if (this.blocked) {
      this.subscriptions.failAll(this.blocked);
      return;
    }
    if (this.refreshScheduled || this.subscriptions.size === 0) return;
    this.refreshScheduled = true;
    void this.run((db) => {
      this.refreshScheduled = false;
      if (this.blocked) return this.subscriptions.failAll(this.blocked);
      if (this.refreshHistory.misses.length === 0) this.evict(db);
      const missing = this.subscriptions.refresh((sql, params) => db.read(sql, params));
      if (missing.length === 0) this.refreshHistory = newReadHistory();
      else {
        this.readsWaiting++;
        this.fetch(this.plan(db, missing, this.refreshHistory))
          .then(
            () => this.changed(),
            (error) => {
              this.refreshHistory = newReadHistory();
              this.subscriptions.failFaulted(error);
            },
          )
          .finally(() => this.readsWaiting--);
      }
    }).catch(() => {});
  }

  private settleAt(lsn: number, rejections: readonly Rejected[]): void {
    const merged = new Map(this.settling?.rejections);
    for (const r of rejections) merged.set(r.seq, r);
    this.settling = { lsn, rejections: merged };
  }

  /**
   * Brings the overlay up to date: settles what the base contains, then
   * applies the unapplied mutations in order. A missing page pauses this and
   * fetches it; returns the last seq the base holds once known.
   */
  private repair(db: ReplicaDb): number | undefined {
    let lastSeq: number | undefined;
    try {
      if (this.settling) {
        lastSeq = readLastSeq(db, this.id);
        this.baseLastSeq = lastSeq;
        const { lsn, rejections } = this.settling;
        this.settling = undefined;
        if (lastSeq > this.storedLastSeq && !this.settlingWithBase) {
          this.storedLastSeq = lastSeq;
          this.options.store?.settle(lastSeq).catch((error) => this.storeFailed(error));
        }
        this.queue.settleUpTo(lastSeq, lsn, rejections);
        const pending = new Set(this.queue.list().map((m) => m.seq));
        // Settled before it ever ran here: its effects are in the base.
        for (const entry of this.unapplied) if (!pending.has(entry.mutation.seq)) entry.local?.resolve();
        this.unapplied = this.unapplied.filter((entry) => pending.has(entry.mutation.seq));
        // Settling may happen long after the update that asked for it (a partial base fetched pages first).
        this.emitState();
      }
      while (this.unapplied.length > 0) {
        const entry = this.unapplied[0]!;
        try {
          this.apply(db, entry.mutation);
          entry.local?.resolve();
        } catch (error) {
          if (error instanceof PageFault) throw error;
          // The server decides: a mutation that fails locally stays pending.
          entry.local?.reject(error);
        }
        this.unapplied.shift();
      }
      this.repairHistory = newReadHistory();
      if (this.blocked) {
        this.blocked = undefined;
        this.emitState();
      }
    } catch (error) {
      if (!(error instanceof PageFault)) throw error;
      const faulted = error.pages;
      this.readsWaiting++;
      this.fetch(this.plan(db, faulted, this.repairHistory)).finally(() => this.readsWaiting--).then(
        () => this.resume(),
        (reason) => {
          this.repairHistory = newReadHistory();
          // Unreachable pages (offline): the calls waiting on them fail now,
          // and so do reads and live queries until they apply; the mutations
          // stay queued and apply on resume().
          this.blocked = blockedError(reason, faulted, this.unapplied.length);
          for (const entry of this.unapplied) {
            entry.local?.reject(this.blocked);
            entry.local = undefined;
          }
          this.subscriptions.failAll(this.blocked);
          this.emitState();
        },
      );
    } finally {
      this.changed();
    }
    return lastSeq;
  }

  /** Keeps a bounded base within its budget; only while no read waits for pages. */
  private evict(db: ReplicaDb): void {
    if (this.readsWaiting > 0) return;
    const dropped = db.pages.evict((pgno) => this.planner.isStructural(pgno));
    if (dropped.length === 0) return;
    this.options.onEvict?.(dropped);
    const { lsn, pageCount } = db.pages.baseImage();
    this.options.store?.putBase({ kind: 'commit', lsn, pageCount, pages: [], dropped, settledThroughSeq: 0 }).catch((error) => this.storeFailed(error));
  }

  /** The base pages this replica holds (a partial replica tells the server on reconnect). */
  heldPages(): number[] {
    return this.db ? [...this.db.pages.baseImage().pages.keys()] : [];
  }

  private plan(db: ReplicaDb, missing: number[], history: ReadHistory): number[] {
    return this.planner.plan(missing, history, (pgno) => db.pages.holds(pgno), db.pages.baseImage().pageCount);
  }

  private fetch(pgnos: number[]): Promise<void> {
    const fetchPages = this.options.fetchPages;
    if (!fetchPages) {
      return Promise.reject(new QuireError('missing_pages', `the replica lacks pages ${pgnos.slice(0, 10).join(', ')} and has no way to fetch them — a replica without fetchPages must hold every page`));
    }
    return fetchPages(pgnos);
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

/** Why local changes wait: the fetch's own error, said in terms of the user's edits. */
function blockedError(reason: unknown, pages: readonly number[], waiting: number): QuireError {
  if (!(reason instanceof QuireError)) {
    return new QuireError('missing_pages', `local changes need pages ${pages.join(', ')} and fetching them failed (${String(reason)}) — reconnect to retry`, { cause: reason });
  }
  if (reason.code !== 'offline_missing_pages') return reason;
  return new QuireError(
    'offline_missing_pages',
    `${waiting} local change(s) need page(s) ${pages.join(', ')} that this partial replica does not hold, and the client is offline — they stay queued and apply once it reconnects; call client.hydrate() while online to edit the whole document offline`,
    { cause: reason },
  );
}
