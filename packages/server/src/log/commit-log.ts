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

/** What a log knows after {@link CommitLog.open}, without page images. */
export interface CommitLogSummary {
  /** The last durable commit, or null for an empty log. */
  last: Omit<CommitRecord, 'pages'> | null;
  /** Every rejection still on record, oldest first. */
  rejections: RejectionRecord[];
  /** The page numbers each of the last {@link RECENT_COMMITS} commits changed, oldest first. */
  recent: Array<{ lsn: number; pgnos: number[] }>;
}

/** How many commits back a reconnecting client can catch up page by page instead of by snapshot. */
export const RECENT_COMMITS = 1024;

/**
 * The durable, ordered record of a document's commits. A commit is
 * acknowledged to nobody until `append` has resolved.
 *
 * Implementations: {@link FileCommitLog} (local files). Every implementation
 * passes `runCommitLogContract`.
 */
export interface CommitLog {
  /** Recovers the log (dropping a torn tail) and summarises it. */
  open(): Promise<CommitLogSummary>;
  /** Appends commits; resolves once they are durable. LSNs must continue the log without gaps. */
  append(records: readonly CommitRecord[]): Promise<void>;
  /** Commits with `lsn > after`, in order. */
  readAfter(after: number): AsyncIterable<CommitRecord>;
  close(): Promise<void>;
}
