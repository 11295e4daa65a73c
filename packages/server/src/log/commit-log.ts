import type { PageImage } from '@quire/core/internal';

/** A mutation the coordinator refused, kept so its caller learns why even after a reconnect. */
export interface RejectionRecord {
  clientId: string;
  seq: number;
  /** At most {@link MAX_REJECTION_CODE} of `A-Z a-z 0-9 _ . : -`. */
  code: string;
  /** At most {@link MAX_REJECTION_MESSAGE} UTF-16 code units. */
  message: string;
}

/**
 * The longest rejection code, in characters. Codes are short identifiers
 * (ASCII), so this is also their size in bytes in a commit record.
 */
export const MAX_REJECTION_CODE = 64;

/**
 * The longest rejection message kept, in UTF-16 code units (at most 3 UTF-8
 * bytes each). A rejection goes into the commit log, the in-memory
 * RejectionIndex and every client's commit frame, and reducers' messages
 * often quote what the client sent.
 */
export const MAX_REJECTION_MESSAGE = 1024;

/** Where the authoritative volume's WAL stood right after a commit (see docs/WAL.md). */
export interface VolumeMark {
  salt1: number;
  salt2: number;
  offset: number;
}

/**
 * One commit: the result of applying one batch of mutations. The pages are
 * complete images of every page the batch changed.
 */
export interface CommitRecord {
  lsn: number;
  /** Size of the document after the commit, in pages. */
  pageCount: number;
  pages: PageImage[];
  /** The highest seq applied (or rejected) per client in this commit. */
  settled: Array<{ clientId: string; lastSeq: number }>;
  rejections: RejectionRecord[];
  /** The local volume's WAL position after this commit, for crash recovery. */
  volume: VolumeMark;
}

/** Where a checkpoint stands: the whole document at one LSN. */
export interface CheckpointInfo {
  lsn: number;
  /** Size of the document at `lsn`, in pages: the checkpoint holds pages 1 to this. */
  pageCount: number;
}

/**
 * What a checkpoint carries besides pages: the state at its LSN that the
 * commits it replaces held, so compaction loses none of it.
 */
export interface CheckpointState {
  /** Rejections still kept at `lsn` (the bounded window), oldest first. */
  rejections: RejectionRecord[];
  /**
   * Per client, the highest seq whose rejection record left the window: the
   * server can no longer say whether that client's mutations at or below it
   * were applied or rejected (see `outcome_unknown` in docs/COMMIT_LOG.md).
   */
  unknownOutcomes: Array<{ clientId: string; upToSeq: number }>;
  /** The page numbers each of the last {@link RECENT_COMMITS} commits up to `lsn` changed, oldest first. */
  recent: Array<{ lsn: number; pgnos: number[] }>;
}

/** A checkpoint without its pages. */
export interface Checkpoint extends CheckpointInfo, CheckpointState {}

/** What a log knows after {@link CommitLog.open}, without page images. */
export interface CommitLogSummary {
  /** The last durable commit, or null for a log without commits. Compaction never removes it. */
  last: Omit<CommitRecord, 'pages'> | null;
  /** The newest checkpoint, with its state, or null. */
  checkpoint: Checkpoint | null;
  /**
   * The oldest commit still in the log: `readAfter(firstLsn - 1)` works,
   * anything lower throws `log_compacted`. `last.lsn + 1` when the log has
   * no commits.
   */
  firstLsn: number;
  /**
   * The rejections of the commits after the checkpoint (of every commit when
   * there is none), oldest first. The checkpoint's own come before them.
   */
  rejections: RejectionRecord[];
  /**
   * The pages each commit after the checkpoint (every commit when there is
   * none) changed, oldest first; at most the last {@link RECENT_COMMITS}.
   */
  recent: Array<{ lsn: number; pgnos: number[] }>;
}

/** How many commits back a reconnecting client can catch up page by page instead of by snapshot. */
export const RECENT_COMMITS = 1024;

/**
 * The durable, ordered record of a document's commits, with checkpoints
 * (the whole document at an LSN) so that old commits can be removed. A
 * commit is acknowledged to nobody until `append` has resolved.
 *
 * Implementations: {@link FileCommitLog} (local files). Every implementation
 * passes `runCommitLogContract`.
 */
export interface CommitLog {
  /**
   * Other processes may append to this log (a bucket several nodes share), so
   * a coordinator can fall behind it. Default false: a file log is locked to
   * one process.
   */
  readonly shared?: boolean;
  /** Recovers the log (dropping a torn tail) and summarises it, reading only what the summary needs. */
  open(): Promise<CommitLogSummary>;
  /** Appends commits; resolves once they are durable. LSNs must continue the log without gaps. */
  append(records: readonly CommitRecord[]): Promise<void>;
  /**
   * Commits with `lsn > after`, in order. Throws `log_compacted` when
   * `after < firstLsn - 1` (those commits are gone: start from the checkpoint).
   */
  readAfter(after: number): AsyncIterable<CommitRecord>;
  /**
   * Stores the whole document at `checkpoint.lsn`: every page from 1 to
   * `pageCount`, ascending. `lsn` must be at most the last durable commit's.
   * Resolves once durable; until then (and after a crash mid-write) the log
   * still opens from the previous checkpoint. Writing one checkpoint is
   * never a reason for the next append to wait long.
   */
  writeCheckpoint(checkpoint: Checkpoint, pages: Iterable<PageImage> | AsyncIterable<PageImage>): Promise<void>;
  /** Every page, 1 to `pageCount`, ascending, of a checkpoint the log holds (the newest from `open`). */
  readCheckpoint(info: CheckpointInfo): AsyncIterable<PageImage>;
  /**
   * Removes the commits with `lsn <= min(keepAfterLsn, newest checkpoint's
   * lsn)`, except the newest commit, and every checkpoint but the newest. An
   * implementation may keep more (a file log removes whole segments). Without
   * a checkpoint it removes nothing: the commits are the only base.
   */
  compact(keepAfterLsn: number): Promise<{ commitsRemoved: number; checkpointsRemoved: number }>;
  /**
   * Bytes the log holds in its storage now, for metrics and tools: its
   * commits (segment files, or commit objects in a bucket) and its
   * checkpoints. A log that cannot say without a costly look leaves it out.
   */
  storedBytes?(): Promise<{ commits: number; checkpoints: number }>;
  close(): Promise<void>;
}
