import { QuireError } from '../errors.js';
import type { PageImage } from '../page/page.js';
import { encodeArgs } from '../reducers/args-codec.js';
import type { Reducers } from '../reducers/define-reducers.js';
import { migrationsOf } from '../reducers/define-app.js';
import { type PreparedCall, prepareCall } from '../reducers/invoke-reducer.js';
import type { Row, SqlParams } from '../reducers/tx.js';
import { PageFault, type ReplicaDb } from '../replica/replica-db.js';
import { ReplicaPages } from '../replica/replica-pages.js';
import type { ReplicaStore } from '../store/replica-store.js';
import { EngineStore } from './engine-store.js';
import { PageSupply } from './page-supply.js';
import { PendingQueue, type PendingMutation, type Rejected } from './pending-queue.js';
import { newReadHistory } from './prefetch.js';
import { type BaseUpdate, addLayer, moveBase, readLastSeq } from './rebase.js';
import { type Deferred, Replay } from './replay.js';
import { previewSchema } from './schema-preview.js';
import { SeqLedger } from './seq-ledger.js';
import { SerialReplica } from './serial-replica.js';
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
  /** Bytes: a partial replica of a document no larger fetches it whole at its first missing page. Default 0. */
  fetchWholeBelow?: number | undefined;
  /** Bytes of base pages a partial replica keeps; least recently used ones go first. Default unbounded. */
  cacheSize?: number | undefined;
  /** Told which base pages the cache dropped (the server stops sending their changes). */
  onEvict?: ((pgnos: number[]) => void) | undefined;
  /** Told of each mutation the server settled: applied at `lsn`, or rejected. */
  onSettled?: ((mutation: PendingMutation, lsn: number, rejection: Rejected | undefined) => void) | undefined;
}

/** A pending mutation and how far it got, for the inspector. */
export interface PendingProgress extends PendingMutation {
  /** Applied to the replica (the overlay holds it, or a commit shown over the base does). */
  applied: boolean;
  /** In a server commit shown over the base, not yet durable. */
  committed: boolean;
}

/** What one read cost: pages SQLite read, pages fetched for it, and round trips. */
export interface QueryStats {
  pagesRead: number;
  pagesFetched: number;
  roundTrips: number;
}

export interface LocalMutation {
  /** Assigned when the mutation is queued: at once, or after a stored replica has loaded. */
  readonly seq: number;
  local: Promise<void>;
  server: Promise<{ lsn: number }>;
}

// A read that misses the same pages after this many fetches gives up.
const MAX_SAME_FAULT = 8;

/** A server commit shown as a layer until it is durable: this client's last_seq in it (once read) and its rejections. */
interface Speculative {
  lsn: number;
  lastSeq: number | undefined;
  rejections: readonly Rejected[];
}

/**
 * The client engine, free of sockets and timers. It coordinates its parts:
 * the replica and its serial queue, the seq ledger, the pending queue (the
 * `server` promises), the replay of pending mutations on the base (the
 * `local` promises), the page supply of a partial replica, the store, and
 * live queries.
 */
export class Engine {
  private readonly replica: SerialReplica;
  private readonly store: EngineStore;
  private readonly seqs: SeqLedger;
  private readonly queue: PendingQueue;
  private readonly replay: Replay;
  private readonly pageSupply: PageSupply;
  private readonly subscriptions = new Subscriptions();
  // The replica's layers (non-durable commits), oldest first.
  private speculative: Speculative[] = [];
  private readonly stateListeners = new Set<() => void>();
  private id: string;
  // Misses of the live-query refresh and of the replay, across their fetch rounds.
  private refreshHistory = newReadHistory();
  private replayHistory = newReadHistory();
  private refreshScheduled = false;
  // Set while the replay fetches pages: the overlay then lacks some pending
  // mutations, and a live query run now would show the user's own changes
  // gone until the pages arrive. Queries, live and one-shot, wait for the
  // replay instead: this settles once the fetch ended and the replay resumed
  // or gave up.
  private replayFetch: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: EngineOptions) {
    this.id = options.clientId;
    this.store = new EngineStore(options.store, () => this.emitState());
    this.seqs = new SeqLedger(this.store.persistent);
    this.queue = new PendingQueue(options.onSettled);
    this.replay = new Replay(options.reducers);
    this.pageSupply = new PageSupply(options, this.store);
    this.replica = new SerialReplica(new ReplicaPages(options.cacheSize), async (db) => {
      if (this.store.persistent) await this.restore(db);
      else previewSchema(db, migrationsOf(options.reducers));
    });
  }

  /** This replica's client id (a stored replica's, once `ready()` resolved). */
  get clientId(): string {
    return this.id;
  }

  /** Set while local changes cannot apply for want of pages the client cannot fetch (offline). */
  get applyError(): QuireError | undefined {
    return this.replay.blocked;
  }

  /** Set when the store failed to write: local changes may not survive a restart. */
  get storeError(): QuireError | undefined {
    return this.store.error;
  }

  /** Resolves once the replica is open. */
  ready(): Promise<void> {
    return this.replica.run(() => undefined);
  }

  /** The server LSN the replica shows (its newest commit, durable or not). */
  get lsn(): number {
    return this.replica.current?.pages.lsn ?? 0;
  }

  /** The server LSN of the durable base (what the store keeps). */
  get durableLsn(): number {
    return this.replica.current?.pages.durableLsn ?? 0;
  }

  get pendingCount(): number {
    return this.queue.size;
  }

  pending(): readonly PendingMutation[] {
    return this.queue.list();
  }

  /** Pending mutations that may go to the server: the ones already durable in the store. */
  sendable(): readonly PendingMutation[] {
    return this.queue.list().filter((m) => this.seqs.isDurable(m.seq));
  }

  lowestPendingSeq(): number {
    return this.queue.lowestSeq();
  }

  /**
   * The oldest `limit` pending mutations and how far each got. The overlay
   * holds a prefix of the queue (Replay), so the last `waiting` are not applied yet.
   */
  pendingProgress(limit: number): PendingProgress[] {
    const list = this.queue.list();
    const firstWaiting = list.length - this.replay.waiting;
    let committedThrough = 0;
    for (const layer of this.speculative) committedThrough = Math.max(committedThrough, layer.lastSeq ?? 0);
    return list.slice(0, limit).map((m, i) => ({ ...m, committed: m.seq <= committedThrough, applied: i < firstWaiting || m.seq <= committedThrough }));
  }

  /** How many base pages the replica holds, of how many in the document. */
  heldPageCount(): { held: number; total: number } {
    const base = this.replica.current?.pages.baseImage();
    return { held: base?.pages.size ?? 0, total: base?.pageCount ?? 0 };
  }

  /** The base pages this replica holds (a partial replica tells the server on reconnect). */
  heldPages(): number[] {
    const db = this.replica.current;
    return db ? [...db.pages.baseImage().pages.keys()] : [];
  }

  /** Queues a reducer call, applies it to the replica, and returns its promises. */
  mutate(name: string, args: unknown): LocalMutation {
    const argsJson = encodeArgs(args);
    let call: PreparedCall;
    try {
      // Check the name and the arguments before anything is queued or written;
      // the checked call is kept for every replay.
      call = prepareCall(this.options.reducers, name, argsJson);
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
      handle.seq = this.seqs.assign();
      const mutation = { seq: handle.seq, name, argsJson };
      this.queue.add(mutation).then(settle.resolve, settle.reject);
      this.persist(mutation);
      return mutation;
    };
    const queued = this.seqs.ready ? enqueue() : undefined;
    // Listeners hear of the call before it applies here: the client sends it
    // in a microtask queued now, ahead of the local apply, which then runs
    // while the server works on it.
    if (queued) this.emitState();
    let local!: Deferred;
    handle.local = new Promise<void>((resolve, reject) => (local = { resolve, reject }));
    this.replica
      .run((db) => {
        this.replay.add(queued ?? enqueue(), local, call);
        this.repair(db);
        if (!queued) this.emitState();
      })
      .catch((error) => local.reject(error));
    // Fire-and-forget calls are normal: an unobserved rejection must not
    // crash the process. Callers that attach handlers still see it.
    handle.local.catch(() => {});
    server.catch(() => {});
    return handle;
  }

  /**
   * Rebase onto a server snapshot or commit. A commit that is not `durable`
   * yet goes over the base as a layer: this client's mutations in it stay
   * pending, and its rejections wait, until `applyDurable` says it is durable.
   * `durableTo`, when the update says how far the log is durable, does what
   * `applyDurable(durableTo)` would, in the same turn of the queue.
   */
  applyServerUpdate(update: BaseUpdate, rejections: readonly Rejected[], durable = true, durableTo?: number): Promise<void> {
    return this.replica.run((db) => {
      this.rebase(db, update, rejections, durable);
      if (durableTo !== undefined) this.fold(db, durableTo);
    });
  }

  private rebase(db: ReplicaDb, update: BaseUpdate, rejections: readonly Rejected[], durable: boolean): void {
    if (!durable && update.kind === 'commit') {
      let shown: number | undefined;
      const { pages, kept } = addLayer(db, update, () => (shown = this.overlayHolds(db, rejections)) !== undefined);
      if (kept) {
        // The commit holds none of the calls in the overlay and changed
        // nothing they used: replaying them would write what they wrote.
        this.speculative.push({ lsn: update.lsn, lastSeq: shown, rejections });
        this.pageSupply.learn(pages);
        this.changed();
        this.emitState();
        return;
      }
      this.speculative.push({ lsn: update.lsn, lastSeq: undefined, rejections });
      this.pageSupply.learn(pages);
      this.replay.restart(this.queue.list());
      // With nothing pending the commit holds no call of this client:
      // no need to read its last_seq (a query on pages just replaced).
      if (this.queue.size > 0) this.replay.coverLater();
      this.repair(db);
      this.emitState();
      return;
    }
    if (update.kind === 'snapshot') this.pageSupply.resetLayout();
    const { pages, dropped } = moveBase(db, update);
    this.pageSupply.learn(pages);
    this.replay.restart(this.queue.list());
    this.replay.settleLater(rejections);
    // The store settles with the base write (one transaction); if the page
    // recording it is missing, repair() settles the store once it arrives.
    const lastSeq = this.repair(db, { storeSettlesWithBase: true });
    const { kind, lsn, pageCount } = update;
    this.store.putBase({ kind, lsn, pageCount, pages, dropped, settledThroughSeq: lastSeq ?? 0 });
    this.emitState();
  }

  /**
   * The server made every commit up to `lsn` durable: their layers fold into
   * the base, which is stored, and this client's mutations in them settle,
   * with the rejections that came with them (final only now).
   */
  applyDurable(lsn: number): Promise<void> {
    return this.replica.run((db) => this.fold(db, lsn));
  }

  private fold(db: ReplicaDb, lsn: number): void {
    const folded = db.pages.foldLayers(lsn);
    if (!folded) return;
    const layers = this.speculative.splice(0, folded.layers);
    // Rejections come only for this client's own calls, which stay pending until settled here.
    const settles = this.queue.size > 0 || this.replay.settlementDue !== undefined;
    if (settles) this.replay.settleLater(layers.flatMap((layer) => layer.rejections));
    const lastSeq = layers.at(-1)!.lastSeq;
    if (lastSeq !== undefined) {
      const rejections = this.replay.settlementDue!;
      // Each at the LSN of the commit that applied it.
      for (const layer of layers) if (layer.lastSeq !== undefined) this.queue.settleUpTo(layer.lastSeq, layer.lsn, rejections);
      this.seqs.settle(lastSeq);
      this.replay.settled(this.queue.list());
    }
    this.store.putBase({ kind: 'commit', lsn: folded.lsn, pageCount: folded.pageCount, pages: folded.pages, dropped: folded.dropped, settledThroughSeq: lastSeq ?? 0 });
    // The last_seq was never read (a partial replica lacked its page, or
    // nothing was pending then): it is read from the base once no layer lies over it.
    if (lastSeq === undefined && settles) this.repair(db);
    this.emitState();
  }

  /**
   * A new connection: the server may have lost the commits that were not
   * durable (it crashed), so the replica goes back to its durable base and
   * replays every pending mutation; they are resent, and the server skips
   * the ones it has.
   */
  dropSpeculative(): Promise<void> {
    return this.replica.run((db) => {
      if (db.pages.layerCount === 0) return;
      db.pages.dropOverlay();
      db.pages.dropLayers();
      this.speculative = [];
      this.replay.restart(this.queue.list());
      this.repair(db);
      this.emitState();
    });
  }

  /** Adds fetched pages to a partial base; pages as of another LSN than the base's are dropped. */
  applyPages(lsn: number, pageCount: number, pages: readonly PageImage[]): Promise<void> {
    return this.replica.run((db) => {
      // Answers come at a durable LSN, after the `durable` message that folded every layer up to it.
      if (lsn !== db.pages.durableLsn || pageCount !== db.pages.baseImage().pageCount) return;
      db.pages.addBasePages(pages);
      this.pageSupply.learn(pages);
      this.store.putBase({ kind: 'commit', lsn, pageCount, pages, settledThroughSeq: 0 });
    });
  }

  /** Retries reads and local applies that failed for want of pages (call when back online). */
  resume(): void {
    void this.replica
      .run((db) => {
        this.repair(db);
      })
      .catch(() => {});
  }

  /** Settles rejections the server reported outside a base update (the base is already current). */
  settleRejections(rejections: readonly Rejected[]): Promise<void> {
    return this.replica.run((db) => {
      this.replay.settleLater(rejections);
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
        const outcome = await this.replica.run((db) => {
          if (this.replay.blocked) throw this.replay.blocked;
          // Not awaited here: the pages it waits for arrive through this queue.
          if (this.replayFetch) return { wait: this.replayFetch };
          if (stats.roundTrips === 0) this.pageSupply.evict(db);
          const before = db.pages.reads;
          const rows = db.read<R>(sql, params);
          stats.pagesRead = db.pages.reads - before;
          return { rows, stats };
        });
        if (!('wait' in outcome)) return outcome;
        await outcome.wait;
      } catch (error) {
        if (!(error instanceof PageFault)) throw error;
        // Each round normally misses new pages; the same miss again and again
        // means the pages never arrive (answers as of another LSN, say).
        const key = error.pages.join(',');
        stuck = key === last ? stuck + 1 : 0;
        last = key;
        if (stuck >= MAX_SAME_FAULT) throw new QuireError('missing_pages', `pages ${key} were fetched ${stuck} times and are still missing — the replica cannot follow the server; reopen the client`);
        const plan = await this.replica.run((db) => this.pageSupply.plan(db, error.pages, history));
        stats.roundTrips++;
        stats.pagesFetched += plan.length;
        await this.pageSupply.fetch(plan);
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
    return this.replica.run(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.failAll(new QuireError('client_closed', 'the client was closed before the server confirmed this mutation — it may or may not have been applied'));
    await this.replica.close();
    await this.store.close();
  }

  /** Puts a stored replica back: its base, then its pending mutations replayed on top. */
  private async restore(db: ReplicaDb): Promise<void> {
    const stored = await this.store.load(this.id);
    if (!this.store.persistent) {
      // The store could not load: run in memory.
      this.seqs.keepInMemory();
      previewSchema(db, migrationsOf(this.options.reducers));
      return;
    }
    if (stored) {
      this.id = stored.clientId;
      for (const mutation of stored.pending) {
        this.queue.add(mutation).catch(() => {});
        this.replay.add(mutation);
      }
      if (stored.lsn > 0) {
        db.pages.resetBase(stored.lsn, stored.pageCount, stored.pages);
        this.pageSupply.learn(stored.pages);
        // The base may already hold some stored mutations (a crash came
        // between settling them and dropping them from the store): settle
        // like after an update, once the page that records it is here.
        this.replay.settleLater([]);
      }
      this.seqs.settle(stored.lastSeq);
    }
    // Before the stored calls replay: they need the tables.
    previewSchema(db, migrationsOf(this.options.reducers));
    this.repair(db);
    this.seqs.resume(Math.max(0, ...(stored?.pending.map((m) => m.seq) ?? [])));
    this.emitState();
  }

  private persist(mutation: PendingMutation): void {
    if (!this.store.persistent) return;
    // A failed write still counts as durable: losing the local copy beats never sending the change.
    void this.store.putPending(mutation).then(() => {
      this.seqs.markDurable(mutation.seq);
      this.emitState();
    });
  }

  /**
   * Brings the overlay up to date: settles what the base contains, then
   * replays the waiting mutations in order. A missing page pauses this and
   * fetches it; returns the last seq the base holds once known.
   */
  private repair(db: ReplicaDb, { storeSettlesWithBase = false } = {}): number | undefined {
    let lastSeq: number | undefined;
    this.replayFetch = undefined;
    try {
      const rejections = this.replay.settlementDue;
      // Only the durable base settles: with layers over it, it waits for them to fold.
      if (rejections && db.pages.layerCount === 0) {
        lastSeq = readLastSeq(db, this.id);
        if (this.seqs.settle(lastSeq) && !storeSettlesWithBase) this.store.settle(lastSeq);
        this.queue.settleUpTo(lastSeq, db.pages.lsn, rejections);
        this.replay.settled(this.queue.list());
        // Settling may happen long after the update that asked for it (a partial base fetched pages first).
        this.emitState();
      }
      if (this.replay.coverPending) {
        const shown = readLastSeq(db, this.id);
        const newest = this.speculative.at(-1);
        if (newest) newest.lastSeq = shown;
        this.replay.covered(shown);
      }
      this.replay.applyAll(db, (seq) => ({ clientId: this.id, seq, userId: this.options.userId }));
      this.replayHistory = newReadHistory();
      if (this.replay.unblock()) this.emitState();
    } catch (error) {
      if (!(error instanceof PageFault)) throw error;
      const faulted = error.pages;
      const fetch: Promise<void> = this.pageSupply.fetch(this.pageSupply.plan(db, faulted, this.replayHistory)).then(
        () => this.resume(),
        (reason) => {
          // The wait is over: live queries now report why (blocked, below).
          if (this.replayFetch === fetch) this.replayFetch = undefined;
          this.replayHistory = newReadHistory();
          // Unreachable pages (offline): the calls waiting on them fail now,
          // and so do reads and live queries until they apply; the mutations
          // stay queued and apply on resume().
          const blocked = blockedError(reason, faulted, this.replay.waiting);
          this.replay.block(blocked);
          this.subscriptions.failAll(blocked);
          this.emitState();
        },
      );
      this.replayFetch = fetch;
    } finally {
      this.changed();
    }
    return lastSeq;
  }

  /**
   * Whether the non-durable commit just shown leaves the overlay as
   * replaying the pending mutations would write it: every one is applied,
   * none of those in the overlay is in the commit (the last_seq it shows
   * for this client is below them, and it brought no rejection), and no
   * page they read or wrote changed. Returns that last_seq if so.
   */
  private overlayHolds(db: ReplicaDb, rejections: readonly Rejected[]): number | undefined {
    if (this.queue.size === 0 || rejections.length > 0) return undefined;
    if (this.replay.waiting > 0 || this.replay.blocked || this.replayFetch || this.replay.coverPending || this.replay.settlementDue) return undefined;
    if (!db.pages.overlaySurvives()) return undefined;
    let shown: number;
    try {
      shown = db.pages.readCommitted(() => readLastSeq(db, this.id));
    } catch {
      // A partial replica may lack the page: replay as usual, which fetches it.
      return undefined;
    }
    return shown < (this.replay.lowestApplied ?? Number.POSITIVE_INFINITY) ? shown : undefined;
  }

  /** Refreshes live queries (once per turn of the serial queue), fetching the pages they miss. */
  private changed(): void {
    const blocked = this.replay.blocked;
    if (blocked) {
      this.subscriptions.failAll(blocked);
      return;
    }
    if (this.refreshScheduled || this.subscriptions.size === 0) return;
    this.refreshScheduled = true;
    void this.replica
      .run((db) => {
        this.refreshScheduled = false;
        if (this.replay.blocked) return this.subscriptions.failAll(this.replay.blocked);
        // repair() refreshes once the replay is complete (or has given up).
        if (this.replayFetch) return;
        if (this.refreshHistory.misses.length === 0) this.pageSupply.evict(db);
        const missing = this.subscriptions.refresh(
          (sql, params) => {
            const run = db.pages.recordReads(() => db.read(sql, params));
            run.reads.allocation = db.readsAllocation(sql);
            return run;
          },
          (reads) => db.pages.unchanged(reads),
        );
        if (missing.length === 0) {
          this.refreshHistory = newReadHistory();
          return;
        }
        this.pageSupply.fetch(this.pageSupply.plan(db, missing, this.refreshHistory)).then(
          () => this.changed(),
          (error) => {
            this.refreshHistory = newReadHistory();
            this.subscriptions.failFaulted(error);
          },
        );
      })
      .catch(() => {});
  }

  private emitState(): void {
    for (const listener of [...this.stateListeners]) listener();
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
