import { QuireError } from '@quire/core';
import { RECENT_COMMITS } from '../log/commit-log.js';
import { KEEP_REJECTIONS } from './rejection-index.js';

/** When a document writes log checkpoints and what compaction keeps (`createSyncServer({ compaction })`). */
export interface CompactionOptions {
  /** Write a checkpoint after this many commits. Default 1000. */
  checkpointEveryCommits?: number;
  /**
   * Or sooner, once the pages written since the last checkpoint reach this
   * many times the document's size (and at least 64 commits went by).
   * Default 4: the log never holds much more than a few copies of the document.
   */
  checkpointLogRatio?: number;
  /**
   * Commits kept behind the newest checkpoint. Default 1024 (`RECENT_COMMITS`,
   * what page-by-page catch-up of a reconnecting client covers).
   */
  retainCommits?: number;
  /** Rejection records kept per document (all clients together). Default 10,000. */
  keepRejections?: number;
}

/**
 * Decides when the coordinator writes a log checkpoint. The coordinator asks
 * `due` after each durable commit; after a checkpoint it compacts the log to
 * `keepAfter`.
 */
export class CheckpointPolicy {
  readonly everyCommits: number;
  readonly logRatio: number;
  readonly retainCommits: number;
  readonly keepRejections: number;
  private lastLsn = 0;

  constructor(options: CompactionOptions = {}) {
    this.everyCommits = positive(options, 'checkpointEveryCommits', 1000);
    this.logRatio = positive(options, 'checkpointLogRatio', 4);
    this.retainCommits = positive(options, 'retainCommits', RECENT_COMMITS, true);
    this.keepRejections = positive(options, 'keepRejections', KEEP_REJECTIONS);
  }

  /** A checkpoint at `lsn` was taken (or the log opened with one there). */
  checkpointed(lsn: number): void {
    this.lastLsn = lsn;
  }

  /** The LSN of the last checkpoint taken. */
  get lastCheckpointLsn(): number {
    return this.lastLsn;
  }

  /** Whether to checkpoint at `lsn`, with `pagesWritten` pages changed by the commits since the last one. */
  due(lsn: number, pagesWritten: number, pageCount: number): boolean {
    const commits = lsn - this.lastLsn;
    if (commits <= 0) return false;
    return commits >= this.everyCommits || (commits >= 64 && pagesWritten >= this.logRatio * pageCount);
  }

  /** What `CommitLog.compact` may remove up to, once a checkpoint at `lsn` is durable. */
  keepAfter(lsn: number): number {
    return Math.max(0, lsn - this.retainCommits);
  }
}

function positive(options: CompactionOptions, name: keyof CompactionOptions, fallback: number, zeroOk = false): number {
  const value = options[name] ?? fallback;
  if (!Number.isFinite(value) || value < (zeroOk ? 0 : 1)) {
    throw new QuireError('invalid_limit', `compaction.${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number, got ${String(value)} — leave it out for the default (${fallback})`);
  }
  return value;
}
