import type { QuireClient, Reducers } from '@quire/core';

/** Confirm latencies of a canary, in ms. */
export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? Number.NaN };
}

/**
 * A well-behaved client that keeps making one mutation at a time and times
 * how long the server takes to confirm each, while something else goes on.
 * Any error it sees is kept, for the test to assert there was none.
 */
export class Canary<R extends Reducers> {
  confirmed = 0;
  readonly errors: string[] = [];
  private samples: number[] = [];
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    readonly client: QuireClient<R>,
    private readonly mutate: (n: number) => { server: Promise<unknown> },
  ) {
    client.subscribeStatus((status) => {
      const code = status.lastError?.code;
      if (code && this.errors.at(-1) !== code) this.errors.push(code);
    });
  }

  /** Starts mutating, one at a time, `pauseMs` apart. */
  start(pauseMs = 5): void {
    this.stopping = false;
    this.running ??= (async () => {
      while (!this.stopping) {
        const started = performance.now();
        await this.mutate(this.confirmed + 1).server;
        this.samples.push(performance.now() - started);
        this.confirmed++;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })().finally(() => (this.running = undefined));
  }

  /** Stops after the mutation in flight is confirmed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** The latencies since the last call, and starts a new series. */
  take(): LatencyStats {
    const stats = latencyStats(this.samples);
    this.samples = [];
    return stats;
  }
}
