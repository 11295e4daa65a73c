import { QuireError } from '@quire/core';
import type { PageImage } from '@quire/core/internal';
import { type ByteSource, encodeCheckpoint, readCheckpointFooter, readCheckpointPages } from '../checkpoint-codec.js';
import { type Checkpoint, type CheckpointInfo, type CommitLog, type CommitLogSummary, type CommitRecord, RECENT_COMMITS } from '../commit-log.js';
import { type DecodedCommit, decodeCommitObject, encodeCommitObject } from './commit-object.js';
import { type Clock, CompactionGrace, type Instant } from './compaction-grace.js';
import { ObjectKeys } from './object-keys.js';
import { type S3LogOptions, S3_DEFAULTS } from './s3-log-options.js';
import type { S3Store } from './s3-store.js';

/** Commit objects fetched at once when opening. */
const PARALLEL_GETS = 8;

interface ListedObject {
  key: string;
  firstLsn: number;
  /** In bytes, as the LIST said. */
  size: number;
}

/**
 * A commit log in an S3-compatible bucket: one object per `append` call,
 * keyed by its first LSN with the bits inverted so that a LIST finds the
 * newest first, and written only if the key is free (`If-None-Match: *`).
 * Each writer puts its next object at the LSN after the end of the chain it
 * has read or written, so two writers that both think they are at LSN n
 * collide on one key: one wins, the other gets `log_fenced` and refuses
 * every later append. Layout and argument: docs/STORAGE.md.
 *
 * Appends run one at a time in call order, so a caller may start the next
 * before the previous has resolved.
 *
 * Checkpoints are objects of their own (the checkpoint codec's bytes), and
 * compaction deletes whole commit objects under a checkpoint this node has
 * known for the grace period. A deleted key could be taken again by a writer
 * whose view ended before it, so a writer whose view is older than half the
 * grace period looks at the newest key after its PUT: a newer object than
 * its own means the chain went on without it (`log_fenced`).
 *
 * `storedBytes()` (the `quire_commit_log_bytes` metric) costs no request:
 * open lists every object of the document with its size, and the log then
 * adds what it PUTs and takes off what compaction DELETEs.
 */
export class S3CommitLog implements CommitLog {
  readonly shared = true;
  private readonly keys: ObjectKeys;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** The end of the chain as this log last read or wrote it: its next object goes at this + 1. */
  private lastLsn = 0;
  /** The end of the chain once every queued append has been written. */
  private queuedLsn = 0;
  private tail: Promise<void> = Promise.resolve();
  /** Set by a failed write: later appends throw it (the chain's end is no longer known). */
  private refusal: Error | undefined;
  private checkpoint: Checkpoint | null = null;
  /** The oldest commit compaction left. */
  private firstLsn = 1;
  private readonly grace: CompactionGrace;
  /** When the request that last confirmed `lastLsn` as the chain's end was sent (a PUT, or open's LIST). */
  private confirmedAt: Instant;
  /** Bytes of the document's commit objects in the bucket, as listed at open and changed by this log since. */
  private commitBytes = 0;
  /** Bytes of each checkpoint in the bucket by LSN, likewise (a map: a checkpoint at an LSN may be PUT twice). */
  private readonly checkpointBytes = new Map<number, number>();

  constructor(
    private readonly store: S3Store,
    private readonly docId: string,
    options: Pick<S3LogOptions, 'compactionGraceMs'> & { clock?: Clock } = {},
  ) {
    this.keys = new ObjectKeys(store.prefix, docId);
    const graceMs = options.compactionGraceMs ?? S3_DEFAULTS.compactionGraceMs;
    if (!(graceMs >= 0)) throw new TypeError(`compactionGraceMs must be a number of ms >= 0, got ${graceMs}`);
    this.grace = new CompactionGrace(graceMs, options.clock);
    this.confirmedAt = this.grace.now();
  }

  /**
   * Reads the newest checkpoint's footer and the newest objects: those after
   * the checkpoint, or without one enough for the last {@link RECENT_COMMITS}
   * commits; never the whole history.
   */
  async open(): Promise<CommitLogSummary> {
    this.checkpoint = await this.newestCheckpoint();
    if (this.checkpoint) this.grace.checkpointKnown(this.checkpoint.lsn);
    const base = this.checkpoint?.lsn ?? 0;
    const summary: CommitLogSummary = { last: null, checkpoint: this.checkpoint, firstLsn: base + 1, rejections: [], recent: [] };
    this.lastLsn = this.queuedLsn = base;
    const listing = this.newestFirst(1000)[Symbol.asyncIterator]();
    // The newest object this LIST finds was the chain's end when it was sent, or later.
    this.confirmedAt = this.grace.now();
    const newest = await listing.next();
    this.commitBytes = 0;
    if (newest.done) return this.opened(summary);

    const head = await this.fetch(newest.value, undefined, { pages: false });
    const lastLsn = head[head.length - 1]!.lsn;
    // The commits the summary needs: those after the checkpoint (it carries the rest), or the newest ones.
    const from = this.checkpoint ? base + 1 : Math.max(1, lastLsn - RECENT_COMMITS + 1);
    // Older objects end where the next newer one starts, so their keys say how many commits each holds.
    const older: Array<ListedObject & { lastLsn: number }> = [];
    let nextFirst = newest.value.firstLsn;
    let bytes = newest.value.size;
    while (nextFirst > from) {
      const next = await listing.next();
      if (next.done) throw this.missing(nextFirst);
      older.push({ ...next.value, lastLsn: nextFirst - 1 });
      nextFirst = next.value.firstLsn;
      bytes += next.value.size;
    }
    // The rest of the LIST (compaction keeps it short): where the oldest commit is, and every object's size.
    let oldestFirstLsn = nextFirst;
    for (let next = await listing.next(); !next.done; next = await listing.next()) {
      oldestFirstLsn = next.value.firstLsn;
      bytes += next.value.size;
    }
    const olderRecords = await mapConcurrently(older, PARALLEL_GETS, (object) => this.fetch(object, object.lastLsn, { pages: false }));
    const records = [...olderRecords.reverse().flat(), ...head];
    for (const { pages: _pages, pgnos, ...record } of records) {
      summary.last = record;
      if (record.lsn < from) continue;
      summary.rejections.push(...record.rejections);
      summary.recent.push({ lsn: record.lsn, pgnos });
    }
    summary.recent = summary.recent.slice(-RECENT_COMMITS);
    this.lastLsn = this.queuedLsn = lastLsn;
    this.commitBytes = bytes;
    // Only compaction moves the first commit, and it needs a checkpoint.
    this.firstLsn = summary.firstLsn = this.checkpoint ? oldestFirstLsn : 1;
    return this.opened(summary);
  }

  append(records: readonly CommitRecord[]): Promise<void> {
    try {
      this.requireOpen();
      if (this.refusal) throw this.refusal;
      let expected = this.queuedLsn + 1;
      for (const record of records) {
        if (record.lsn !== expected) throw new QuireError('lsn_gap', `commit LSN ${record.lsn} does not follow ${expected - 1}`);
        expected++;
      }
      if (records.length === 0) return Promise.resolve();
      const body = encodeCommitObject(records);
      const first = records[0]!.lsn;
      const last = records[records.length - 1]!.lsn;
      this.queuedLsn = last;
      const written = this.tail.then(() => this.write(first, last, body));
      this.tail = written.catch(() => {});
      return written;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Commits after `after` up to the end of the chain as this log knows it, one object GET at a time. */
  async *readAfter(after: number): AsyncIterable<CommitRecord> {
    this.requireOpen();
    if (after < this.firstLsn - 1) throw this.compacted(after);
    const upTo = this.lastLsn;
    if (after >= upTo) return;
    const objects: Array<ListedObject & { lastLsn: number }> = [];
    let nextFirst = upTo + 1;
    for await (const object of this.newestFirst(Math.min(1000, upTo - after + 1))) {
      if (object.firstLsn > upTo) continue; // written since (by another node)
      objects.push({ ...object, lastLsn: nextFirst - 1 });
      nextFirst = object.firstLsn;
      if (nextFirst <= after + 1) break;
    }
    if (nextFirst > after + 1) throw this.checkpoint && nextFirst - 1 <= this.checkpoint.lsn ? this.compacted(after) : this.missing(nextFirst);
    for (const object of objects.reverse()) {
      for (const { pgnos: _pgnos, ...record } of await this.fetch(object, object.lastLsn, { pages: true })) {
        if (record.lsn > after) yield record;
      }
    }
  }

  /** Writes the checkpoint as one object (a checkpoint at that LSN another node wrote is as good). */
  async writeCheckpoint(checkpoint: Checkpoint, pages: Iterable<PageImage> | AsyncIterable<PageImage>): Promise<void> {
    this.requireOpen();
    if (checkpoint.lsn > this.lastLsn) throw new QuireError('internal', `a checkpoint at LSN ${checkpoint.lsn} is ahead of the log's last commit ${this.lastLsn}`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of encodeCheckpoint(checkpoint, pages)) chunks.push(chunk);
    // A PUT is whole or absent: a failure above writes nothing.
    const body = Buffer.concat(chunks);
    const put = await this.store.putIfAbsent(this.keys.checkpoint(checkpoint.lsn), body);
    this.checkpointBytes.set(checkpoint.lsn, put.written ? body.length : put.existing.length);
    this.grace.checkpointKnown(checkpoint.lsn);
    if (!this.checkpoint || checkpoint.lsn >= this.checkpoint.lsn) this.checkpoint = checkpoint;
  }

  async *readCheckpoint(info: CheckpointInfo): AsyncIterable<PageImage> {
    const key = this.keys.checkpoint(info.lsn);
    const bytes = await this.store.get(key);
    if (!bytes) throw this.compacted(info.lsn);
    const source: ByteSource = { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
    const where = `s3://${this.store.bucket}/${key}`;
    yield* readCheckpointPages(source, await readCheckpointFooter(source, where), where);
  }

  /**
   * Deletes the commit objects whose commits are all at or before
   * `min(keepAfterLsn, newest checkpoint this node has known for
   * compactionGraceMs)`, oldest first (a crash leaves the chain whole from
   * its new first commit), never the newest object; then every checkpoint
   * but the newest. Commits under a younger checkpoint wait for a later call.
   */
  async compact(keepAfterLsn: number): Promise<{ commitsRemoved: number; checkpointsRemoved: number }> {
    this.requireOpen();
    if (!this.checkpoint) return { commitsRemoved: 0, checkpointsRemoved: 0 };
    const cutoff = Math.min(keepAfterLsn, this.grace.agedCheckpointLsn());
    const objects: ListedObject[] = [];
    for await (const object of this.newestFirst(1000)) objects.push(object);
    let commitsRemoved = 0;
    for (let i = objects.length - 1; i >= 1; i--) {
      const lastLsn = objects[i - 1]!.firstLsn - 1;
      if (lastLsn > cutoff) break;
      await this.store.delete(objects[i]!.key);
      this.commitBytes -= objects[i]!.size;
      commitsRemoved += lastLsn - objects[i]!.firstLsn + 1;
      this.firstLsn = lastLsn + 1;
    }
    let checkpointsRemoved = 0;
    for await (const key of this.store.list(this.keys.checkpoints)) {
      const lsn = this.keys.checkpointLsn(key);
      if (lsn >= this.checkpoint.lsn) continue;
      await this.store.delete(key);
      this.checkpointBytes.delete(lsn);
      checkpointsRemoved++;
    }
    return { commitsRemoved, checkpointsRemoved };
  }

  /** What the document's objects in the bucket hold, as this log has seen them: no request. */
  async storedBytes(): Promise<{ commits: number; checkpoints: number }> {
    let checkpoints = 0;
    for (const size of this.checkpointBytes.values()) checkpoints += size;
    return { commits: this.commitBytes, checkpoints };
  }

  async close(): Promise<void> {
    this.state = 'closed';
    await this.tail;
  }

  private async write(first: number, last: number, body: Uint8Array): Promise<void> {
    if (this.refusal) throw this.refusal;
    const key = this.keys.commit(first);
    const sentAt = this.grace.now();
    try {
      const result = await this.store.putIfAbsent(key, body);
      if (!result.written && !sameBytes(result.existing, body)) {
        throw new QuireError(
          'log_fenced',
          `another node wrote LSN ${first} of document "${this.docId}" (s3://${this.store.bucket}/${key}); this node stepped down and commits nothing more to it — clients will reconnect and carry on; if this keeps happening, more than one node is serving the document`,
        );
      }
      // In the bucket now (an object with these bytes already there is this log's own earlier attempt, never counted).
      this.commitBytes += body.length;
      // The key may have been free because compaction removed it: the chain then went on without this
      // writer. Compaction waits out a grace period first, so only a writer whose view is older than
      // half of it (measured now that the PUT has landed) can be in that case (docs/STORAGE.md).
      const newest = this.grace.mustCheck(this.confirmedAt) ? await this.newestFirst(1)[Symbol.asyncIterator]().next() : undefined;
      if (newest && !newest.done && newest.value.firstLsn > first) {
        throw new QuireError(
          'log_fenced',
          `the commits of document "${this.docId}" go on past LSN ${first} (s3://${this.store.bucket}/${newest.value.key}), written by another node; this node stepped down and commits nothing more to it — clients will reconnect and carry on; if this keeps happening, more than one node is serving the document`,
        );
      }
    } catch (error) {
      this.refusal = error as Error;
      throw error;
    }
    this.lastLsn = last;
    this.confirmedAt = sentAt;
  }

  /**
   * The newest checkpoint's LSN, page count and state (its footer, by range
   * GETs), or null. Lists every checkpoint with its size for `storedBytes`
   * (compaction leaves one or two).
   */
  private async newestCheckpoint(): Promise<Checkpoint | null> {
    this.checkpointBytes.clear();
    const keys: string[] = [];
    for await (const { key, size } of this.store.listSized(this.keys.checkpoints)) {
      this.checkpointBytes.set(this.keys.checkpointLsn(key), size);
      keys.push(key);
    }
    const key = keys[0];
    if (key !== undefined) {
      const size = await this.store.size(key);
      // Compacted away since the LIST: the next LIST finds the newer one.
      if (size === undefined) return this.newestCheckpoint();
      const source: ByteSource = { size, read: async (offset, length) => (await this.store.getRange(key, offset, Math.min(length, size - offset))) ?? new Uint8Array(0) };
      const footer = await readCheckpointFooter(source, `s3://${this.store.bucket}/${key}`);
      if (footer.checkpoint.lsn !== this.keys.checkpointLsn(key)) {
        throw new QuireError('corrupt_log', `checkpoint s3://${this.store.bucket}/${key} holds LSN ${footer.checkpoint.lsn}, not the one its key names — restore the document's objects from a backup`);
      }
      return footer.checkpoint;
    }
    return null;
  }

  private compacted(after: number): QuireError {
    return new QuireError('log_compacted', `the commits of document "${this.docId}" after LSN ${after} were compacted away (the log holds them from LSN ${this.firstLsn}) — start from the newest checkpoint (LSN ${this.checkpoint?.lsn ?? 'none'}) instead`);
  }

  /** The commit objects, newest first; `corrupt_log` for a key Quire would not write. */
  private async *newestFirst(firstPage: number): AsyncIterable<ListedObject> {
    for await (const { key, size } of this.store.listSized(this.keys.commits, firstPage)) yield { key, firstLsn: this.keys.firstLsn(key), size };
  }

  /** GETs and checks one object; `lastLsn`, when known from the next object's key, must be its last commit. */
  private async fetch(object: ListedObject, lastLsn: number | undefined, options: { pages: boolean }): Promise<DecodedCommit[]> {
    const bytes = await this.store.get(object.key);
    if (!bytes) throw this.missing(object.firstLsn);
    const records = decodeCommitObject(bytes, object.key, object.firstLsn, options);
    const end = records[records.length - 1]!.lsn;
    if (lastLsn !== undefined && end !== lastLsn) {
      throw new QuireError('corrupt_log', `commit object "${object.key}" ends at LSN ${end} but the next object starts at LSN ${lastLsn + 1} — the chain of commit objects is broken; restore the document's objects from a backup`);
    }
    return records;
  }

  private missing(beforeLsn: number): QuireError {
    return new QuireError('corrupt_log', `the commits of document "${this.docId}" before LSN ${beforeLsn} are missing from s3://${this.store.bucket}/${this.keys.commits} — restore them from a backup`);
  }

  private opened(summary: CommitLogSummary): CommitLogSummary {
    this.state = 'open';
    return summary;
  }

  private requireOpen(): void {
    if (this.state !== 'open') throw new QuireError('log_closed', 'the commit log is not open — call open() first');
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** `fn` over `items` with at most `limit` running at once, results in order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
