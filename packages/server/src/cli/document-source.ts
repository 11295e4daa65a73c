import type { Reducers } from '@quire/core';
import type { Coordinator } from '../coordinator/coordinator.js';
import type { Logger } from '../logger.js';

/**
 * A document `quire migrate` opened (its missing migrations already ran), or
 * the reason it left it alone: a running server holds it. `close` closes the
 * document and lets go of what kept servers out. `recheckInMs`: the hold
 * lapses after this long if its holder is gone (a lease nobody renews).
 */
export type OpenedDocument =
  | { kind: 'open'; coordinator: Coordinator; close(): Promise<void> }
  | { kind: 'held'; reason: string; recheckInMs?: number };

/**
 * Where `quire migrate` finds documents and how it opens them: a data
 * directory with file logs ({@link DataDirectorySource}) or a bucket with
 * the S3 log ({@link BucketSource}). The migration loop is the same for both.
 */
export interface DocumentSource {
  /** Where the documents are, for the summary: a directory, or `s3://bucket/prefix`. */
  readonly where: string;
  /** The ids of the documents to migrate, in the order to visit them. */
  list(): Promise<string[]>;
  /** Opens a document as a server would, unless a running server holds it. */
  open(docId: string, reducers: Reducers, logger: Logger): Promise<OpenedDocument>;
  /** Lets go of what the source holds (connections, a temporary cache). */
  close(): Promise<void>;
}
