import type { CommitLog, CommitRecord } from '../log/commit-log.js';

interface CaughtUpWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Makes applied commits durable, behind the coordinator's back: the
 * coordinator broadcasts a commit as soon as it is applied and hands its
 * record here. While one append is under way the next records wait; then
 * all of them go in one append (the group commit). Appends run one at a
 * time and in LSN order, so `durableLsn` only grows.
 */
export class DurableWriter {
  /** Every commit up to this LSN is in the log. */
  durableLsn: number;
  private waiting: CommitRecord[] = [];
  private appending: readonly CommitRecord[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly caughtUpWaiters: CaughtUpWaiter[] = [];

  constructor(
    private readonly log: CommitLog,
    lsn: number,
    private readonly events: {
      /** These records are durable (in order); `durableLsn` is already the last one's. */
      durable(records: readonly CommitRecord[]): void;
      /** An append failed: nothing after `durableLsn` is durable, and nothing more is written. */
      failed(error: Error): void;
    },
  ) {
    this.durableLsn = lsn;
  }

  /** Commits applied and not yet durable. */
  get backlog(): number {
    return this.waiting.length + this.appending.length;
  }

  /** Queues a commit (the next LSN) for the log. */
  add(record: CommitRecord): void {
    if (this.failure) return;
    this.waiting.push(record);
    if (!this.inFlight) this.appendWaiting();
  }

  /** Resolves once every commit added so far is durable; rejects if an append failed. */
  caughtUp(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.backlog === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.caughtUpWaiters.push({ resolve, reject }));
  }

  /** Waits for the append under way to end (its outcome ignored) and writes nothing more. */
  async stop(): Promise<void> {
    this.failure ??= new Error('the commit log writer stopped');
    this.waiting = [];
    for (const waiter of this.caughtUpWaiters.splice(0)) waiter.reject(this.failure);
    await this.inFlight?.catch(() => {});
  }

  private appendWaiting(): void {
    const records = this.waiting;
    this.waiting = [];
    this.appending = records;
    this.inFlight = this.log.append(records).then(
      () => {
        this.inFlight = undefined;
        this.appending = [];
        if (this.failure) return;
        this.durableLsn = records.at(-1)!.lsn;
        this.events.durable(records);
        if (this.waiting.length > 0) this.appendWaiting();
        else for (const waiter of this.caughtUpWaiters.splice(0)) waiter.resolve();
      },
      (reason: unknown) => {
        this.inFlight = undefined;
        this.appending = [];
        if (this.failure) return;
        const error = reason instanceof Error ? reason : new Error(String(reason));
        this.failure = error;
        this.waiting = [];
        for (const waiter of this.caughtUpWaiters.splice(0)) waiter.reject(error);
        this.events.failed(error);
      },
    );
  }
}
