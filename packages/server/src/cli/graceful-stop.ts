import type { Logger } from '../logger.js';

export interface GracefulStopOptions {
  /** How long the drain may take before the process exits anyway. */
  drainTimeoutMs: number;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
  /** Where the signals come from. Default `process`. */
  signals?: { on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown };
}

/** The signals `quire serve` drains on: SIGTERM from a process manager, SIGINT from Ctrl-C. */
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * What `quire serve` does on SIGTERM or SIGINT: drains the server
 * (`close()`: no new connections, queued mutations made durable, documents
 * closed, clients told to reconnect) and exits 0. A second signal, or a
 * drain that outlasts `drainTimeoutMs`, exits 1 at once. That is safe: the
 * commit log is the truth, nothing was confirmed to a client before it was
 * durable there, and a document not closed is opened from its log next
 * time, as after a crash.
 */
export function stopOnSignals(server: { close(): Promise<void> }, logger: Logger, options: GracefulStopOptions): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, `${signal} again: exiting without waiting for the drain; documents not closed open from their logs next time`);
      return exit(1);
    }
    stopping = true;
    logger.info({ signal, drainTimeoutMs: options.drainTimeoutMs }, `${signal}: draining before exit (a second signal, or ${options.drainTimeoutMs} ms, exits at once)`);
    const deadline = setTimeout(() => {
      logger.error({ drainTimeoutMs: options.drainTimeoutMs }, `the drain took over ${options.drainTimeoutMs} ms: exiting without waiting for it; documents not closed open from their logs next time`);
      exit(1);
    }, options.drainTimeoutMs);
    deadline.unref();
    server.close().then(
      () => {
        clearTimeout(deadline);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error }, 'the drain failed; exiting — documents not closed open from their logs next time');
        exit(1);
      },
    );
  };
  for (const signal of SIGNALS) (options.signals ?? process).on(signal, onSignal);
}
