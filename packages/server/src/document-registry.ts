import { join } from 'node:path';
import { QuireError, type Reducers } from '@quire/core';
import { ID_RULE, isValidDocId } from '@quire/core/protocol';
import { ClientOwners } from './client-owners.js';
import type { CommitLog } from './log/commit-log.js';
import { FileCommitLog } from './log/file-commit-log.js';
import { Coordinator } from './coordinator/coordinator.js';
import type { VolumeOptions } from './coordinator/document-volume.js';
import type { ReducerTimeLimitOptions } from './coordinator/reducer-time-limit.js';
import type { CompactionOptions } from './coordinator/checkpoint-policy.js';
import { type Logger, defaultLogger } from './logger.js';
import type { HostMetrics } from './metrics/host-metrics.js';
import { ReopenBackoff } from './reopen-backoff.js';
import type { DocumentPlacement } from './cluster/document-placement.js';
import type { S3ClientOwners } from './cluster/s3-client-owners.js';

export interface RegistryOptions extends VolumeOptions {
  dataDir: string;
  reducers: Reducers;
  /** Close a document this long after its last client left. Default 30 s. */
  idleCloseMs?: number;
  maxBatch?: number;
  /** Where each document's commit log lives. Default: files next to the document. */
  commitLog?: (docId: string, dir: string) => CommitLog;
  /** Default: warnings and errors to stderr (see `defaultLogger`). */
  logger?: Logger;
  reducerTime?: ReducerTimeLimitOptions;
  /**
   * Log checkpoints and compaction: a checkpoint every 1000 commits (or once
   * the log since the last one holds 4× the document), keeping 1024 commits
   * behind it and 10,000 rejection records. See docs/COMMIT_LOG.md.
   */
  compaction?: CompactionOptions;
  /** With several server nodes: a document opens only on the node that holds its lease (see `DocumentPlacement`). */
  placement?: Pick<DocumentPlacement, 'assertHeld' | 'release'>;
  /** With several server nodes: client ids bound to users in the bucket, the same for every node. */
  sharedOwners?: Pick<S3ClientOwners, 'claim'>;
  /** Called as an idle document starts to close; `closed` settles once it has. */
  onIdleClose?: (docId: string, closed: Promise<void>) => void;
  /** Where opens, failures, commits and pages served are counted (see `HostMetrics`). */
  hostMetrics?: HostMetrics;
}

interface Entry {
  opening: Promise<Coordinator>;
  /** Set once open. */
  coordinator?: Coordinator;
  users: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Opened on the first claim; closed once the entry leaves `entries`. */
  owners?: ClientOwners;
}

/**
 * Opens documents on first use and closes them when idle: one coordinator
 * per document. A coordinator that stops after an internal error leaves the
 * registry; the next client reopens the document from its log (after a
 * backoff when it keeps failing, see `ReopenBackoff`).
 */
export class DocumentRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Documents whose coordinator is still closing: a reopen waits for it. */
  private readonly closingDocs = new Map<string, Promise<void>>();
  private readonly backoff = new ReopenBackoff();
  /** Documents refused because a newer app migrated them: while backing off, clients still hear `schema_too_new`. */
  private readonly tooNew = new Map<string, QuireError>();
  private readonly logger: Logger;
  private closing: Promise<number> | undefined;
  /** While `close` runs: the documents it still waits for. */
  private left = 0;

  constructor(private readonly options: RegistryOptions) {
    this.logger = options.logger ?? defaultLogger();
  }

  /** Documents open now (or opening). */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes the open documents' commit logs hold on disk (see `Coordinator.logBytes`). */
  async logBytes(): Promise<number> {
    const open = [...this.entries.values()].flatMap((entry) => (entry.coordinator ? [entry.coordinator] : []));
    const sizes = await Promise.all(open.map((coordinator) => coordinator.logBytes()));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  }

  /** Documents a shutdown (`close`) still waits for: their queued mutations are applied and made durable, then they close. */
  get draining(): number {
    return this.left;
  }

  /** The document's coordinator; pair every call with {@link release}. */
  async acquire(docId: string): Promise<Coordinator> {
    if (!isValidDocId(docId)) throw new QuireError('invalid_doc_id', `docId "${docId.slice(0, 200)}" is not valid — ${ID_RULE}`);
    if (this.closing) throw new QuireError('server_closed', 'the sync server is shutting down — reconnect later');
    let entry = this.entries.get(docId);
    if (!entry) {
      this.refuseWhileBackingOff(docId);
      entry = this.open(docId);
    }
    entry.users++;
    clearTimeout(entry.idleTimer);
    try {
      return await entry.opening;
    } catch (error) {
      entry.users--;
      throw error;
    }
  }

  /**
   * The user a client id of an acquired document belongs to: the first one
   * that claimed it (see {@link ClientOwners}), which may be `userId` itself.
   */
  async claimClient(docId: string, clientId: string, userId: string): Promise<string> {
    const owners = () => {
      const entry = this.entries.get(docId);
      if (!entry) throw new QuireError('server_closed', `document "${docId}" is closing — reconnect`);
      return (entry.owners ??= ClientOwners.open(join(this.options.dataDir, docId)));
    };
    const shared = this.options.sharedOwners;
    if (!shared) return owners().claim(clientId, userId);
    // Bindings never change: what this node has seen once it may trust.
    const known = owners().lookup(clientId);
    if (known !== undefined) return known;
    return owners().claim(clientId, await shared.claim(docId, clientId, userId));
  }

  /** Pairs with {@link acquire}; `coordinator` is the one it returned (a stopped one's users count no more). */
  release(docId: string, coordinator: Coordinator): void {
    const entry = this.entries.get(docId);
    if (!entry || entry.coordinator !== coordinator) return;
    entry.users--;
    if (entry.users > 0) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => void this.closeIfIdle(docId, entry), this.options.idleCloseMs ?? 30_000);
    entry.idleTimer.unref?.();
  }

  /** Runs `fn` with the document open, then releases it. */
  async with<T>(docId: string, fn: (coordinator: Coordinator) => Promise<T> | T): Promise<T> {
    const coordinator = await this.acquire(docId);
    try {
      return await fn(coordinator);
    } finally {
      this.release(docId, coordinator);
    }
  }

  /** Closes every document (queued mutations applied and made durable first); resolves to how many it closed. */
  async close(): Promise<number> {
    this.closing ??= (async () => {
      const all = [...this.entries.values()];
      this.entries.clear();
      // Out of `entries`, no session can claim a client id any more.
      for (const entry of all) {
        clearTimeout(entry.idleTimer);
        entry.owners?.close();
      }
      const closes = [...all.map(async (e) => (await e.opening.catch(() => undefined))?.close()), ...this.closingDocs.values()];
      this.left = closes.length;
      await Promise.all(closes.map((close) => close.finally(() => this.left--)));
      return closes.length;
    })();
    return this.closing;
  }

  private open(docId: string): Entry {
    const dir = join(this.options.dataDir, docId);
    const log = this.options.commitLog?.(docId, dir) ?? new FileCommitLog(dir);
    const prior = this.closingDocs.get(docId) ?? Promise.resolve();
    const logger = this.logger.child({ docId });
    const entry: Entry = { opening: undefined as never, users: 0, idleTimer: undefined };
    const onFailure = (error: Error, closed: Promise<boolean>) => this.stopped(docId, entry, error, closed);
    entry.opening = prior
      .then(() => {
        // The document may have failed (again) while this waited for it to close.
        this.refuseWhileBackingOff(docId);
        this.options.placement?.assertHeld(docId);
        return Coordinator.open({ ...this.options, docId, dir, log, logger, onFailure });
      })
      .then((coordinator) => {
        this.tooNew.delete(docId);
        entry.coordinator = coordinator;
        this.options.hostMetrics?.documentOpened();
        logger.info({ lsn: coordinator.lsn }, 'document opened');
        return coordinator;
      });
    this.entries.set(docId, entry);
    entry.opening.catch((error: unknown) => {
      if (this.entries.get(docId) === entry) this.entries.delete(docId);
      const code = (error as QuireError).code;
      if (code === 'document_moved') return;
      // Another node may manage where this one failed.
      void this.options.placement?.release(docId);
      if (code === 'document_unavailable') return;
      this.options.hostMetrics?.documentOpenFailed();
      const failure = this.backoff.fail(docId);
      if (code === 'schema_too_new') {
        // Expected for a while in a rolling deploy: this is the older node.
        this.tooNew.set(docId, error as QuireError);
        logger.warn({ failures: failure.count, retryInMs: failure.retryAt - Date.now() }, (error as Error).message);
        return;
      }
      logger.error({ err: error, failures: failure.count, retryInMs: failure.retryAt - Date.now() }, 'document failed to open');
    });
    return entry;
  }

  /**
   * This node must stop coordinating `docId` at once: another node holds its
   * lease now. Its clients get `document_moved`, reconnect, and are sent there.
   */
  evict(docId: string): void {
    void this.entries.get(docId)?.opening.then(
      (coordinator) => coordinator.stepDown(new QuireError('document_moved', `document "${docId}" is coordinated by another server node now — reconnect; the client is sent there`)),
      () => {},
    );
  }

  /** The coordinator stopped after an internal error: the next acquire opens the document again, from its log. */
  private stopped(docId: string, entry: Entry, error: Error, closed: Promise<boolean>): void {
    if (this.entries.get(docId) === entry) this.entries.delete(docId);
    clearTimeout(entry.idleTimer);
    entry.owners?.close();
    const placement = this.options.placement;
    if (placement) void closed.then(() => placement.release(docId));
    if ((error as QuireError).code === 'document_moved') {
      this.logger.info({ docId }, 'document handed over to another server node');
      return;
    }
    this.options.hostMetrics?.documentStopped();
    const failure = this.backoff.fail(docId);
    const wait = failure.retryAt - Date.now();
    this.logger.error(
      { docId, err: error, failures: failure.count, retryInMs: Math.max(0, wait) },
      `document stopped after an internal error; it reopens from its log on the next connection${wait > 0 ? ` from ${wait} ms on` : ''}`,
    );
    const done = closed.then((safe) => {
      // The coordinator logged why; a reopen now would recover the files under its open volume.
      if (!safe) this.backoff.refuseUntilRestart(docId);
    });
    const closing = done.finally(() => {
      if (this.closingDocs.get(docId) === closing) this.closingDocs.delete(docId);
    });
    this.closingDocs.set(docId, closing);
  }

  private refuseWhileBackingOff(docId: string): void {
    const failure = this.backoff.blocking(docId);
    if (!failure) return;
    const when = failure.retryAt === Infinity ? 'after the server process restarts' : `in ${Math.ceil((failure.retryAt - Date.now()) / 1000)} s`;
    const tooNew = this.tooNew.get(docId);
    if (tooNew) throw new QuireError('schema_too_new', `${tooNew.message} (this server looks again ${when})`);
    throw new QuireError(
      'document_unavailable',
      `document "${docId}" failed ${failure.count} time(s) in a row; the server tries to open it again ${when} — reconnect later, and check the server log for the cause`,
    );
  }

  private async closeIfIdle(docId: string, entry: Entry): Promise<void> {
    if (this.entries.get(docId) !== entry || entry.users > 0) return;
    const coordinator = await entry.opening;
    if (entry.users > 0 || !coordinator.idle) return;
    this.entries.delete(docId);
    entry.owners?.close();
    const closing = coordinator.close().finally(() => this.closingDocs.delete(docId));
    this.closingDocs.set(docId, closing);
    this.options.onIdleClose?.(docId, closing);
    await closing;
    this.logger.info({ docId, lsn: coordinator.lsn }, 'document closed (idle)');
    await this.options.placement?.release(docId);
  }
}
