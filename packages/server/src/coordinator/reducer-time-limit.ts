import { performance } from 'node:perf_hooks';
import { QuireError } from '@quire/core';
import { SERVER_CLIENT_ID } from '@quire/core/protocol';
import type { Logger } from '../logger.js';
import type { QueuedMutation } from './queued-mutation.js';

export interface ReducerTimeLimitOptions {
  /** A reducer call that runs longer than this is reported, and its client paused. */
  reducerTimeMs: number;
  /** How long a paused client's mutations on this document are refused. */
  reducerPauseMs: number;
}

/** Milliseconds of CPU time the process has used (every thread's). */
const processCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** How stale the CPU reading taken before a call may be (a reading costs a syscall, about 1 µs). */
const CPU_SAMPLE_MS = 100;

/**
 * Reducers run on the JavaScript thread that serves their document (the
 * process's, or one worker's), and nothing can interrupt a synchronous
 * loop: a reducer that runs 3 s stalls every document of that thread for 3 s. This cannot stop such a call, but after
 * one it reports it and refuses the same client's mutations on the document
 * (`reducer_too_slow` rejections, without running them) for
 * `reducerPauseMs`, so one client cannot keep the process stalled.
 * Mutations the server itself starts are timed and reported, never refused.
 *
 * A call counts as slow only if the process also used that much CPU time
 * meanwhile: on a busy machine the thread can wait for a core in the middle
 * of a quick call, and that is not the client's doing.
 */
export class ReducerTimeLimit {
  // clientId -> when its pause ends (performance.now() time).
  private readonly paused = new Map<string, number>();
  // A CPU reading taken at most CPU_SAMPLE_MS before the current call began.
  private cpuAt = Number.NEGATIVE_INFINITY;
  private cpuMs = 0;

  constructor(
    private readonly options: ReducerTimeLimitOptions,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
    private readonly cpuNow: () => number = processCpuMs,
  ) {}

  /** A `ReducerRunner` for runBatch. */
  readonly run = (m: QueuedMutation, run: () => void): void => {
    this.refusePaused(m);
    const start = this.now();
    if (start - this.cpuAt > CPU_SAMPLE_MS) {
      this.cpuAt = start;
      this.cpuMs = this.cpuNow();
    }
    try {
      run();
    } finally {
      const ms = this.now() - start;
      if (ms > this.options.reducerTimeMs) this.overran(m, ms);
    }
  };

  private refusePaused(m: QueuedMutation): void {
    const until = this.paused.get(m.clientId);
    if (until === undefined) return;
    const left = until - this.now();
    if (left <= 0) {
      this.paused.delete(m.clientId);
      return;
    }
    throw new QuireError(
      'reducer_too_slow',
      `client "${m.clientId}" is paused for ${Math.ceil(left / 1000)} s more on this document because one of its reducers ran longer than ${this.options.reducerTimeMs} ms, so "${m.name}" was not run — make the reducer faster (or split the work into smaller calls), or raise limits.reducerTimeMs on the server`,
    );
  }

  private overran(m: QueuedMutation, ms: number): void {
    const durationMs = Math.round(ms);
    // An upper bound on the call's CPU time: the reading may predate the call by up to CPU_SAMPLE_MS.
    const cpuMs = Math.round(this.cpuNow() - this.cpuMs);
    const fields = { clientId: m.clientId, seq: m.seq, reducer: m.name, durationMs, cpuMs, limitMs: this.options.reducerTimeMs };
    if (cpuMs <= this.options.reducerTimeMs) {
      this.logger.info(fields, `reducer "${m.name}" took ${durationMs} ms, over the ${this.options.reducerTimeMs} ms limit, but the process used only ${cpuMs} ms of CPU meanwhile: the machine is busy, so client "${m.clientId}" is not paused`);
      return;
    }
    if (m.clientId === SERVER_CLIENT_ID) {
      this.logger.warn(fields, `reducer "${m.name}" ran ${durationMs} ms, over the ${this.options.reducerTimeMs} ms limit (a server-side call: not paused); every document of this process waited meanwhile`);
      return;
    }
    this.paused.set(m.clientId, this.now() + this.options.reducerPauseMs);
    this.logger.warn(
      { ...fields, pausedMs: this.options.reducerPauseMs },
      `reducer "${m.name}" ran ${durationMs} ms, over the ${this.options.reducerTimeMs} ms limit; every document of this process waited meanwhile. Client "${m.clientId}" is paused on this document for ${this.options.reducerPauseMs} ms`,
    );
  }
}
