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
  /**
   * After the server closes with 1012 (Service Restart: a graceful restart
   * or deploy), each of the next attempts waits a random delay between a
   * quarter of this and this, without growing: clients are back within
   * about this long of the new process listening, spread over the window
   * rather than all at once. Default 1000 ms.
   */
  restartDelayMs?: number;
}

/** WebSocket close code 1012, Service Restart: the server is restarting and wants clients back soon. */
export const SERVICE_RESTART = 1012;

/** Attempts after a restart close that use `restartDelay` before the usual backoff takes over (about 6 s at the default). */
export const RESTART_ATTEMPTS = 10;

/** Exponential backoff with "equal jitter", so many clients don't reconnect in lockstep. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const min = options.minDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/**
 * The delay of an attempt while the server restarts: flat, so no client
 * sits out a long backoff after the new process is up, and spread over
 * three quarters of the window, so they do not arrive together.
 */
export function restartDelay(options: BackoffOptions = {}, random = Math.random): number {
  const window = options.restartDelayMs ?? 1000;
  return window / 4 + (random() * window * 3) / 4;
}
