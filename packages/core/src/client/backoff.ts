export interface BackoffOptions {
  /** First retry delay. Default 100 ms. */
  minDelayMs?: number;
  /** Cap on the delay. Default 5000 ms. */
  maxDelayMs?: number;
  /**
   * Gives up on a connection attempt the server has not welcomed this long
   * after it started (a server or proxy that accepts and never answers),
   * and tries again. Default 15000 ms.
   */
  handshakeTimeoutMs?: number;
}

/** Exponential backoff with "equal jitter", so many clients don't reconnect in lockstep. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const min = options.minDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}
