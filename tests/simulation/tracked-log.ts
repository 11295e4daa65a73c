import { type Checkpoint, type CheckpointInfo, type CommitLog, type CommitLogSummary, type CommitRecord, FileCommitLog, type PageImage } from '@quire/server';

/** The commit-log moments where the simulation may crash the server at once. */
export type LogFaultPoint = 'before-log' | 'after-log';

/**
 * The server's real file log, watched by the simulation: it counts the log
 * operations in flight (the server's only asynchronous file I/O, so the
 * scheduler knows when the server has finished reacting), and calls
 * `onFault` while an append is under way (the commits are in SQLite and
 * broadcast, not yet in the log) and once it is durable (before the
 * coordinator hears, so before any `durable` message). A fault handler that
 * throws stops the document right there. `hold` may keep an append waiting
 * (not counted in flight) while the schedule goes on: its commits stay seen
 * and not durable until the simulation crashes the server.
 */
export class TrackedLog implements CommitLog {
  private readonly inner: FileCommitLog;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    private readonly io: { inFlight: number },
    private readonly onFault: (point: LogFaultPoint) => void,
    private readonly hold: () => Promise<void> | undefined,
    /**
     * A broken log, to prove the simulation catches one: it acknowledges
     * each append at once and writes it a (fake) millisecond later.
     */
    private readonly acknowledgeEarly = false,
  ) {
    this.inner = new FileCommitLog(dir);
  }

  open(): Promise<CommitLogSummary> {
    return this.track(() => this.inner.open());
  }

  append(records: readonly CommitRecord[]): Promise<void> {
    if (this.acknowledgeEarly) {
      this.writes = this.writes
        .then(() => new Promise((resolve) => setTimeout(resolve, 1)))
        .then(() => this.track(() => this.inner.append(records)))
        // The log may be closed by then (the server stopped): that write is lost, which is the point.
        .catch(() => {});
      return Promise.resolve();
    }
    return this.track(async () => {
      // The coordinator runs on until it waits for the append, as it does
      // while a real write is under way; a crash here is mid-write.
      await null;
      this.onFault('before-log');
      const held = this.hold();
      if (held) {
        this.io.inFlight--;
        try {
          await held;
        } finally {
          this.io.inFlight++;
        }
      }
      await this.inner.append(records);
      this.onFault('after-log');
    });
  }

  async *readAfter(after: number): AsyncIterable<CommitRecord> {
    this.io.inFlight++;
    try {
      yield* this.inner.readAfter(after);
    } finally {
      this.io.inFlight--;
    }
  }

  writeCheckpoint(checkpoint: Checkpoint, pages: Iterable<PageImage> | AsyncIterable<PageImage>): Promise<void> {
    return this.track(() => this.inner.writeCheckpoint(checkpoint, pages));
  }

  async *readCheckpoint(info: CheckpointInfo): AsyncIterable<PageImage> {
    this.io.inFlight++;
    try {
      yield* this.inner.readCheckpoint(info);
    } finally {
      this.io.inFlight--;
    }
  }

  compact(keepAfterLsn: number): Promise<{ commitsRemoved: number; checkpointsRemoved: number }> {
    return this.track(() => this.inner.compact(keepAfterLsn));
  }

  close(): Promise<void> {
    return this.track(() => this.inner.close());
  }

  private async track<T>(run: () => Promise<T>): Promise<T> {
    this.io.inFlight++;
    try {
      return await run();
    } finally {
      this.io.inFlight--;
    }
  }
}
