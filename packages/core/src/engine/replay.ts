import type { QuireError } from '../errors.js';
import type { Reducers } from '../reducers/define-reducers.js';
import { type PreparedCall, prepareCall } from '../reducers/invoke-reducer.js';
import { reducerTx } from '../reducers/reducer-tx.js';
import type { ReducerContext } from '../reducers/tx.js';
import { PageFault, type ReplicaDb } from '../replica/replica-db.js';
import type { PendingMutation, Rejected } from './pending-queue.js';

export interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

/** A pending mutation not yet applied on the current base, and its `local` promise if still open. */
interface Unapplied {
  mutation: PendingMutation;
  local: Deferred | undefined;
}

/**
 * The pending mutations still to (re)apply on the current base, in seq
 * order: new calls, and every pending one after a rebase. A page fault
 * pauses them until the pages arrive, so the overlay always holds a prefix
 * of the pending queue, in order.
 */
export class Replay {
  private unapplied: Unapplied[] = [];
  // Each pending mutation's reducer call, decoded and checked once, for every replay.
  private readonly calls = new Map<number, PreparedCall>();
  // Set after a base update until this client's last_seq could be read from
  // it (a partial base may first need the page holding it).
  private due: Map<number, Rejected> | undefined;
  // Set after a non-durable commit was shown until this client's last_seq
  // could be read from it: the mutations it holds are not applied again.
  private coverDue = false;
  // Set while the mutations wait for pages that could not be fetched (the
  // client is offline): reads and live queries report it rather than rows
  // that silently lack the user's edits.
  private blockedBy: QuireError | undefined;
  // The first seq applied since the last restart: the overlay holds it and every later one applied.
  private firstApplied: number | undefined;

  constructor(private readonly reducers: Reducers) {}

  get blocked(): QuireError | undefined {
    return this.blockedBy;
  }

  /** How many mutations wait to apply. */
  get waiting(): number {
    return this.unapplied.length;
  }

  /** A new local call (its call already checked), or a stored one after a restart. */
  add(mutation: PendingMutation, local?: Deferred, call?: PreparedCall): void {
    if (call) this.calls.set(mutation.seq, call);
    this.unapplied.push({ mutation, local });
  }

  /** The server state under the overlay changed: every pending mutation applies again, in order. */
  restart(pending: readonly PendingMutation[]): void {
    const open = new Map(this.unapplied.map((entry) => [entry.mutation.seq, entry.local]));
    this.unapplied = pending.map((mutation) => ({ mutation, local: open.get(mutation.seq) }));
    this.coverDue = false;
    this.firstApplied = undefined;
  }

  /** The lowest seq whose effects the overlay holds (applied since the last restart), if any. */
  get lowestApplied(): number | undefined {
    return this.firstApplied;
  }

  /** A non-durable commit is shown: read the last_seq it holds before the next apply. */
  coverLater(): void {
    this.coverDue = true;
  }

  get coverPending(): boolean {
    return this.coverDue;
  }

  /**
   * The replica shows a non-durable commit holding this client's mutations
   * up to `lastSeq`: they are not applied again, but stay pending (and keep
   * their calls) until the commit is durable, or are replayed if it is lost.
   */
  covered(lastSeq: number): void {
    this.coverDue = false;
    for (const entry of this.unapplied) if (entry.mutation.seq <= lastSeq) entry.local?.resolve();
    this.unapplied = this.unapplied.filter((entry) => entry.mutation.seq > lastSeq);
  }

  /** Asks for the base's last_seq to be read before the next apply; `rejections` settle with it. */
  settleLater(rejections: readonly Rejected[]): void {
    const merged = new Map(this.due);
    for (const r of rejections) merged.set(r.seq, r);
    this.due = merged;
  }

  /** The rejections to settle with, while a settlement is due. */
  get settlementDue(): ReadonlyMap<number, Rejected> | undefined {
    return this.due;
  }

  /** The settlement is done; `pending` is what is still pending after it. */
  settled(pending: readonly PendingMutation[]): void {
    this.due = undefined;
    const seqs = new Set(pending.map((m) => m.seq));
    // Settled before it ever ran here: its effects are in the base.
    for (const entry of this.unapplied) if (!seqs.has(entry.mutation.seq)) entry.local?.resolve();
    this.unapplied = this.unapplied.filter((entry) => seqs.has(entry.mutation.seq));
    for (const seq of this.calls.keys()) if (!seqs.has(seq)) this.calls.delete(seq);
  }

  /**
   * Applies the waiting mutations in order. A mutation that fails locally
   * stays pending (the server decides); a page fault stops here and throws.
   */
  applyAll(db: ReplicaDb, context: (seq: number) => ReducerContext): void {
    while (this.unapplied.length > 0) {
      const entry = this.unapplied[0]!;
      this.firstApplied ??= entry.mutation.seq;
      try {
        this.apply(db, entry.mutation, context(entry.mutation.seq));
        entry.local?.resolve();
      } catch (error) {
        if (error instanceof PageFault) throw error;
        entry.local?.reject(error);
      }
      this.unapplied.shift();
    }
  }

  /** The waiting mutations cannot apply for now: their calls fail with `error`, and stay queued. */
  block(error: QuireError): void {
    this.blockedBy = error;
    for (const entry of this.unapplied) {
      entry.local?.reject(error);
      entry.local = undefined;
    }
  }

  /** Returns true if the mutations were blocked until now. */
  unblock(): boolean {
    const was = this.blockedBy !== undefined;
    this.blockedBy = undefined;
    return was;
  }

  private apply(db: ReplicaDb, mutation: PendingMutation, ctx: ReducerContext): void {
    const call = this.callFor(mutation);
    // Recorded: a commit that changes none of the pages it used keeps the overlay (see Engine.applyServerUpdate).
    db.pages.recordMutation(() => {
      db.exec('BEGIN');
      try {
        call.run(reducerTx(db), ctx);
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction()) db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** A stored mutation is decoded at its first apply; one that fails to decode fails every apply. */
  private callFor(mutation: PendingMutation): PreparedCall {
    let call = this.calls.get(mutation.seq);
    if (!call) {
      call = prepareCall(this.reducers, mutation.name, mutation.argsJson);
      this.calls.set(mutation.seq, call);
    }
    return call;
  }
}
