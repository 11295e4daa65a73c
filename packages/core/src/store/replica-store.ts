import type { PageImage } from '../page/page.js';

/** A mutation applied locally and not yet settled by the server, as stored. */
export interface StoredMutation {
  readonly seq: number;
  readonly name: string;
  readonly argsJson: string;
}

/** What a replica keeps across restarts. */
export interface StoredReplica {
  clientId: string;
  /** The server LSN of the stored base; 0 when no base was ever received. */
  lsn: number;
  /**
   * The highest seq of this client the store saw settled. New seqs start
   * above it and above every pending one, even while the base page that
   * records the server's count is not held (a partial replica).
   */
  lastSeq: number;
  pageCount: number;
  /** The base pages, byte for byte as the server had them at `lsn` (a partial replica: the ones it held). */
  pages: PageImage[];
  /** Unsettled mutations, in seq order. */
  pending: StoredMutation[];
}

/** A move of the stored base to a new server state. */
export interface BaseChange {
  /** A snapshot replaces every stored page; a commit overwrites the pages it lists. */
  kind: 'snapshot' | 'commit';
  lsn: number;
  pageCount: number;
  pages: readonly PageImage[];
  /** Pages whose stored copies must go: changed on the server without a new image here, or evicted. */
  dropped?: readonly number[] | undefined;
  /** Every pending mutation with `seq <=` this is settled and is dropped with the change. */
  settledThroughSeq: number;
}

/**
 * Durable storage for one document's replica: the base pages, the pending
 * mutations and the client id. Writes are applied in call order, each one
 * atomically; the returned promise settles once the write is durable.
 *
 * Implementations: {@link IndexedDbStore} (browsers), {@link FileStore}
 * (Node). Every implementation passes `runReplicaStoreContract`.
 */
export interface ReplicaStore {
  /** The stored replica, or undefined before anything was stored. */
  load(): Promise<StoredReplica | undefined>;
  /** Records the client id the first time a replica is stored. */
  init(clientId: string): Promise<void>;
  putPending(mutation: StoredMutation): Promise<void>;
  putBase(change: BaseChange): Promise<void>;
  /** Drops the pending mutations with `seq <=` this; the base stays as it is. */
  settle(throughSeq: number): Promise<void>;
  close(): Promise<void>;
}
