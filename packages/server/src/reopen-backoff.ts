/** Failures further apart than this start the count again. */
export const FAILURE_WINDOW_MS = 10 * 60_000;
/** The wait after the second failure in a row; it doubles with each further one. */
export const FIRST_REOPEN_DELAY_MS = 1000;
/** The longest wait between two attempts to open a failing document. */
export const MAX_REOPEN_DELAY_MS = 60_000;

export interface Failure {
  /** Failures in a row (each within FAILURE_WINDOW_MS of the previous one). */
  count: number;
  /** Opening is refused until then (ms since the epoch); Infinity: until the process restarts. */
  retryAt: number;
}

/**
 * When a document that stopped, or failed to open, may be opened again. The
 * first failure reopens at once (most are passing: a full disk, a network
 * log); more failures in a row wait 1 s, 2 s, 4 s… up to a minute, so a
 * document that keeps failing is reported, not reopened in a hot loop.
 */
export class ReopenBackoff {
  private readonly failures = new Map<string, Failure & { at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a failure of `docId`. */
  fail(docId: string): Failure {
    const now = this.now();
    const last = this.failures.get(docId);
    const count = last && now - last.at < FAILURE_WINDOW_MS ? last.count + 1 : 1;
    const delay = count === 1 ? 0 : Math.min(FIRST_REOPEN_DELAY_MS * 2 ** (count - 2), MAX_REOPEN_DELAY_MS);
    const failure = { count, retryAt: last?.retryAt === Infinity ? Infinity : now + delay, at: now };
    this.failures.set(docId, failure);
    return { count, retryAt: failure.retryAt };
  }

  /** `docId` must not be opened again by this process. */
  refuseUntilRestart(docId: string): void {
    const failure = this.failures.get(docId) ?? { count: 1, at: this.now(), retryAt: Infinity };
    this.failures.set(docId, { ...failure, retryAt: Infinity });
  }

  /** The failure that keeps `docId` closed now, if any. */
  blocking(docId: string): Failure | undefined {
    const failure = this.failures.get(docId);
    if (!failure) return undefined;
    if (this.now() - failure.at >= FAILURE_WINDOW_MS && failure.retryAt !== Infinity) this.failures.delete(docId);
    return failure.retryAt > this.now() ? failure : undefined;
  }
}
