/**
 * Where an {@link S3CommitLog} keeps its objects: any S3-compatible store
 * (AWS S3, R2, Tigris, MinIO, Ceph RGW). Credentials default to the AWS SDK's
 * usual sources: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and
 * `AWS_SESSION_TOKEN`), then `~/.aws`. See docs/STORAGE.md.
 *
 * @example
 * createSyncServer({ reducers, dataDir: './cache', s3: { bucket: 'quire', endpoint: 'http://127.0.0.1:7480', forcePathStyle: true } });
 */
export interface S3LogOptions {
  bucket: string;
  /** Prepended to every key, e.g. `"prod/"`; a `/` is added if missing. Default: none. */
  prefix?: string;
  /** For stores other than AWS S3, e.g. `"http://127.0.0.1:7480"`. */
  endpoint?: string;
  /** Default: `AWS_REGION`, else `us-east-1`. */
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted stores need. Default false. */
  forcePathStyle?: boolean;
  /**
   * How long one operation keeps retrying network errors and 5xx answers
   * before it fails with `storage_unreachable`. Default 8 s: under the
   * clients' 15 s handshake timeout, so a client whose document cannot open
   * hears why instead of giving up on the server.
   */
  retryForMs?: number;
  /** A connection that moves no bytes for this long counts as a network error (and is retried): a store that hangs. Default 5 s. */
  idleTimeoutMs?: number;
  /**
   * Compaction deletes commits only under a checkpoint this node has known
   * this long; in exchange a writer that appended less than half of it ago
   * needs no LIST after its PUT (docs/STORAGE.md, "Compaction frees keys").
   * Longer keeps more commits in the bucket; shorter makes more appends after
   * a pause pay for a LIST. 0 compacts at once and LISTs after every PUT.
   * Default 10 minutes.
   */
  compactionGraceMs?: number;
}

export const S3_DEFAULTS = {
  region: 'us-east-1',
  retryForMs: 8_000,
  idleTimeoutMs: 5_000,
  compactionGraceMs: 600_000,
  connectTimeoutMs: 3_000,
  /** First wait between attempts; it doubles up to {@link S3_DEFAULTS.maxBackoffMs}. */
  firstBackoffMs: 25,
  maxBackoffMs: 1_000,
} as const;
