/** A monotonic and a wall-clock reading taken together, in ms. */
export interface Instant {
  monotonicMs: number;
  wallMs: number;
}

/** Where a log reads the time; tests pass one whose clocks they move by hand. */
export interface Clock {
  now(): Instant;
}

export const systemClock: Clock = { now: () => ({ monotonicMs: performance.now(), wallMs: Date.now() }) };

/**
 * The grace period that lets a writer skip the LIST after its PUT (the
 * argument: "Compaction frees keys" in docs/STORAGE.md). Compaction deletes
 * commits only under a checkpoint this node has known for `graceMs`; a writer
 * whose chain end is fresher than `graceMs / 2` cannot have aimed at a key
 * compaction freed. Only durations on this node's clocks are compared.
 */
export class CompactionGrace {
  /** Checkpoints this node learned of, oldest first, and when (its monotonic clock). */
  private learned: Array<{ lsn: number; atMs: number }> = [];

  constructor(
    readonly graceMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  now(): Instant {
    return this.clock.now();
  }

  /**
   * Whether a writer whose view of the chain's end was last confirmed by a
   * request sent at `confirmed` must LIST. Either clock saying more than
   * half the grace went by is enough: the monotonic clock stops while the
   * machine sleeps, the wall clock jumps; a check skipped in error would need both wrong at once.
   */
  mustCheck(confirmed: Instant): boolean {
    const now = this.clock.now();
    return Math.max(now.monotonicMs - confirmed.monotonicMs, now.wallMs - confirmed.wallMs) > this.graceMs / 2;
  }

  /** This node now knows of a checkpoint at `lsn` (it wrote it, or found it). */
  checkpointKnown(lsn: number): void {
    this.learned.push({ lsn, atMs: this.clock.now().monotonicMs });
  }

  /**
   * The newest checkpoint LSN known for at least the grace period, or 0.
   * Monotonic only: it never runs fast, so a deletion is never early.
   */
  agedCheckpointLsn(): number {
    const now = this.clock.now().monotonicMs;
    let aged = 0;
    let keepFrom = 0;
    this.learned.forEach(({ lsn, atMs }, i) => {
      if (now - atMs >= this.graceMs && lsn >= aged) [aged, keepFrom] = [lsn, i];
    });
    // What is older than the aged one can never matter again.
    this.learned = this.learned.slice(keepFrom);
    return aged;
  }
}
