/**
 * Records every uncaught exception and unhandled rejection in this process
 * (where the in-process sync server runs) until `stop()`.
 */
export interface ProcessGuard {
  readonly errors: ReadonlyArray<{ kind: 'uncaughtException' | 'unhandledRejection'; error: unknown }>;
  /** A one-line description of what fired, for assertion messages. */
  describe(): string;
  stop(): void;
}

export function guardProcess(): ProcessGuard {
  const errors: Array<{ kind: 'uncaughtException' | 'unhandledRejection'; error: unknown }> = [];
  const onException = (error: unknown) => errors.push({ kind: 'uncaughtException', error });
  const onRejection = (error: unknown) => errors.push({ kind: 'unhandledRejection', error });
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    errors,
    describe: () => errors.map((e) => `${e.kind}: ${e.error instanceof Error ? (e.error.stack ?? e.error.message) : String(e.error)}`).join('\n') || 'none',
    stop() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
