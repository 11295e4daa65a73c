import { mkdirSync } from 'node:fs';
import { MutationRejectedError, QuireError, type Reducers } from '@quire/core';
import { CLIENTS_TABLE, PageEncoding, type PageImage, appVersionOf, encodePageChange, migrationsOf, siblingOf, siblingSources } from '@quire/core/internal';
import { PROTOCOL_VERSION, SERVER_CLIENT_ID, type CommitMessage, type Mutation, type Rejection, type ServerMessage } from '@quire/core/protocol';
import { type Checkpoint, type CommitLog, type CommitRecord, RECENT_COMMITS } from '../log/commit-log.js';
import { CheckpointPolicy, type CompactionOptions } from './checkpoint-policy.js';
import { DocumentLock } from './document-lock.js';
import type { Logger } from '../logger.js';
import type { HostMetrics } from '../metrics/host-metrics.js';
import { ClientSeqs } from './client-seqs.js';
import { DocumentVolume, type VolumeOptions } from './document-volume.js';
import { DurableWriter } from './durable-writer.js';
import type { QueuedMutation } from './queued-mutation.js';
import { type ServerFrame, serverFrame } from './server-frame.js';
import { RecentCommits } from './recent-commits.js';
import { ReducerTimeLimit, type ReducerTimeLimitOptions } from './reducer-time-limit.js';
import { RejectionIndex } from './rejection-index.js';
import { type BatchResult, runBatch } from './run-batch.js';
import { MigrationError, editedSteps, runMigrations, schemaVersionOf } from './run-migrations.js';
import { restoreVolume, volumeState } from './volume-restore.js';
import { DurableNotices } from './durable-notices.js';
import { ServerTx } from './server-tx.js';

/** A connected client, as the coordinator sees it. */
export interface Peer {
  readonly clientId: string;
  readonly userId: string | undefined;
  /** The largest frame this peer's connection accepts from the client. */
  readonly maxMessageBytes: number;
  /** The app version the client said hello with; its calls carry it (see app-versions.ts). */
  readonly appVersion?: number;
  send(frame: ServerFrame): void;
  /** Sends an error frame; `fatal` closes the connection after it. */
  sendError(code: string, message: string, seq: number, fatal: boolean): void;
}

export interface CoordinatorOptions extends VolumeOptions {
  docId: string;
  dir: string;
  reducers: Reducers;
  log: CommitLog;
  /** Most mutations in one group commit. Default 1000. */
  maxBatch?: number;
  /** Pages per snapshot message. Default 256 (1 MB). */
  snapshotChunkPages?: number;
  /** This document's logger (the registry gives it the `docId` field). */
  logger: Logger;
  /** Reducer calls over `reducerTimeMs` are reported and pause their client. Default: no limit. */
  reducerTime?: ReducerTimeLimitOptions;
  /** Log checkpoints, compaction and the rejection window (see `CompactionOptions`). */
  compaction?: CompactionOptions;
  /**
   * Open the document at whatever schema version it has: run no migrations
   * and refuse none (`quire compact`). Never serve clients from such a coordinator.
   */
  skipMigrations?: boolean;
  /**
   * Called once if the coordinator stops after an internal error. `closed`
   * resolves once its files are closed without a checkpoint, to true when a
   * new coordinator may reopen the document from its log, false when the
   * volume could not be closed safely and stays open until the process ends.
   */
  onFailure?: (error: Error, closed: Promise<boolean>) => void;
  /** Where this thread's documents count commits, mutations and pages served (see `HostMetrics`). */
  hostMetrics?: HostMetrics;
}

interface Join {
  peer: Peer;
  lastLsn: number;
  fromSeq: number;
  /** The client fetches pages on demand: its snapshot carries page 1 only. */
  partial: boolean;
  /** With partial: the pages it still holds at lastLsn. */
  held: readonly number[];
}

/** Most pages one getPages answer carries (4 MiB); the client asks again for the rest. */
export const MAX_PAGES_PER_REQUEST = 1024;

/**
 * Most commits applied but not yet durable. Past it the coordinator stops
 * applying until the log catches up, so a slow log bounds memory, not speed.
 */
export const MAX_UNDURABLE_COMMITS = 1000;

/** Work that must see only durable state: it runs between batches, once every applied commit is durable. */
type Between = { kind: 'join'; join: Join } | { kind: 'task'; run: () => void; fail: (error: Error) => void };

interface Waiter {
  resolve(result: { lsn: number }): void;
  reject(error: Error): void;
}

/** A server mutation that was applied (or refused) in commit `lsn`: it settles once that is durable. */
interface Applied {
  lsn: number;
  waiter: Waiter;
  rejection: Error | undefined;
}

/** A commit that settles no client's mutations (a migration). */
const NO_MUTATIONS: BatchResult = { rejections: [], settled: [], outcomes: [] };

// Commits up to this many pages get copy/insert deltas where they are smaller.
const COPY_DELTA_MAX_PAGES = 64;

// A full snapshot this small (as sent, deflated) is kept for the next joiner at the same LSN.
const SHARED_SNAPSHOT_MAX_BYTES = 64 * 1024;

/**
 * The single writer of one document. It puts every mutation in one order,
 * applies them in batches and broadcasts each commit at once; its
 * {@link DurableWriter} makes the commits durable in the log behind it (group
 * commit), and a `durable` message then tells every client up to which LSN.
 *
 * Lifecycle: `open` (recover the volume to the log's last commit) → `run`
 * (push/join feed one queue; `drain` applies batches, and welcomes joiners
 * and answers page reads between them once everything applied is durable, so
 * those never show a commit that is not) → `close` (finish the drain and the
 * writer, poll the WAL, close the files).
 */
export class Coordinator {
  /** The LSN of the last commit applied (and broadcast); see `durableLsn`. */
  lsn: number;
  private readonly tx: ServerTx;
  private readonly queue: QueuedMutation[] = [];
  private readonly between: Between[] = [];
  private readonly members = new Set<Peer>();
  // Partial clients' pages as the server last sent them; full clients are absent.
  private readonly held = new Map<Peer, Set<number>>();
  // Which durable LSN each member heard of, and the `durable` frames still owed.
  private readonly notices = new DurableNotices();
  private readonly seqs: ClientSeqs;
  private readonly waiters = new Map<QueuedMutation, Waiter>();
  // Server mutations applied, in LSN order, waiting for their commit to be durable.
  private readonly applied: Applied[] = [];
  private readonly writer: DurableWriter;
  private readonly recent = new RecentCommits(RECENT_COMMITS);
  /** With metrics: when each commit not yet durable was applied (performance.now()), in LSN order. */
  private readonly appliedAt: number[] = [];
  /**
   * The snapshot frames a full client joining at `lsn` is sent: the same
   * bytes for every such client, so a burst of joins (a reconnect storm)
   * reads and deflates the document once. Dropped at the next commit.
   */
  private sharedSnapshot: { lsn: number; frames: ServerFrame[]; pages: number } | undefined;
  private readonly timeLimit: ReducerTimeLimit | undefined;
  private readonly policy: CheckpointPolicy;
  /** The log checkpoint being written, if any (at most one at a time). */
  private logCheckpoint: Promise<void> | undefined;
  private drainPromise: Promise<void> | undefined;
  private failure: Error | undefined;
  // After a failure: resolves once the files are closed (see onFailure).
  private stopped: Promise<boolean> | undefined;
  private closed = false;
  // The log's LSN when this coordinator read it.
  private readonly openedLsn: number;
  // Until open returns, a failure is open's to report, not onFailure's.
  private opening = true;
  /** The document's schema version: the number of the app's migrations it ran. */
  schemaVersion: number;
  /** Set when this open's migration threw: the document serves at its old schema version, and joining clients hear why. */
  migrationFailure: MigrationError | undefined;
  /** Set when this open migrated the document. */
  migrated: { from: number; to: number; lsn: number } | undefined;

  private constructor(
    private readonly options: CoordinatorOptions,
    private readonly volume: DocumentVolume,
    private readonly rejections: RejectionIndex,
    lsn: number,
    private readonly lock: DocumentLock,
    policy: CheckpointPolicy,
    schemaVersion: number,
  ) {
    this.lsn = lsn;
    this.schemaVersion = schemaVersion;
    this.openedLsn = lsn;
    this.policy = policy;
    this.writer = new DurableWriter(options.log, lsn, { durable: (records) => this.durable(records), failed: (error) => this.fail(error) });
    this.tx = new ServerTx(volume.db);
    const lastSeq = volume.db.prepare(`SELECT last_seq FROM ${CLIENTS_TABLE} WHERE client_id = ?`).pluck();
    this.seqs = new ClientSeqs((clientId) => (lastSeq.get(clientId) as number | undefined) ?? 0);
    this.timeLimit = options.reducerTime && new ReducerTimeLimit(options.reducerTime, options.logger);
  }

  /**
   * Opens the document: takes its lock, opens the log, rebuilds the volume
   * from the log when the local file is missing or behind (the disk is a
   * cache; see `volumeState`), then rolls the volume's WAL back to the log.
   * Then runs the app's migrations the document lacks, as its next commit,
   * and returns once that is durable. A document that ran more migrations
   * than the app declares is not opened (`schema_too_new`).
   */
  static async open(options: CoordinatorOptions): Promise<Coordinator> {
    const policy = new CheckpointPolicy(options.compaction);
    mkdirSync(options.dir, { recursive: true });
    const lock = DocumentLock.acquire(options.dir);
    let volume: DocumentVolume | undefined;
    let coordinator: Coordinator | undefined;
    try {
      const summary = await options.log.open();
      if (volumeState(options.dir, summary) === 'rebuild') {
        const restored = await restoreVolume(options.dir, options.log, summary);
        options.logger.info({ lsn: summary.last?.lsn ?? 0, checkpointLsn: summary.checkpoint?.lsn, ...restored }, 'volume rebuilt from the commit log');
      }
      volume = DocumentVolume.open(options.dir, summary.last?.volume ?? null, options, lock);
      const schemaVersion = schemaVersionOf(volume.db);
      const known = migrationsOf(options.reducers).length;
      if (schemaVersion > known && !options.skipMigrations) {
        throw new QuireError(
          'schema_too_new',
          `document "${options.docId}" is at schema version ${schemaVersion}, but this server's app (version ${appVersionOf(options.reducers)}) declares ${known} migration(s): a newer version of the app migrated it — this server does not open it; run the newer version of the server (clients retry until one answers)`,
        );
      }
      if (!options.skipMigrations) {
        const edited = editedSteps(volume.db, migrationsOf(options.reducers));
        if (edited.length > 0) {
          options.logger.warn(
            { steps: edited },
            `migration ${edited.join(', ')} of the app differs from the one document "${options.docId}" ran — a deployed step must never change (documents that ran the old text keep its schema); restore the old text and add a new step at the end`,
          );
        }
      }
      const checkpoint = summary.checkpoint;
      const rejections = RejectionIndex.restore(
        { rejections: [...(checkpoint?.rejections ?? []), ...summary.rejections].filter((r) => r.seq > 0), unknownOutcomes: checkpoint?.unknownOutcomes ?? [] },
        policy.keepRejections,
      );
      coordinator = new Coordinator(options, volume, rejections, summary.last?.lsn ?? checkpoint?.lsn ?? 0, lock, policy, schemaVersion);
      // Clients that were a few commits behind when the server stopped catch
      // up with the pages those commits changed, not a whole snapshot (a warm
      // partial replica would lose everything it held).
      for (const { lsn, pgnos } of [...(checkpoint?.recent ?? []), ...summary.recent]) coordinator.recent.add(lsn, pgnos);
      policy.checkpointed(checkpoint?.lsn ?? 0);
      // A log without a checkpoint (new, or written before checkpoints) gets one now: the base a rebuild needs.
      if (!checkpoint) await coordinator.checkpointLog();
      if (!options.skipMigrations) await coordinator.migrate();
      coordinator.opening = false;
      return coordinator;
    } catch (error) {
      // It failed on its own (see fail): it closes its files itself.
      if (coordinator?.stopped) {
        await coordinator.stopped;
        throw error;
      }
      // Every reconnect tries again: a document that cannot open must not leak a log handle each time.
      try {
        volume?.close();
      } catch {
        // Already failing; the first error is the one to report.
      }
      await options.log.close().catch(() => {});
      lock.release();
      throw error;
    }
  }

  /**
   * Runs the app's migrations the document has not run, in one transaction
   * with their `__quire_schema` rows, as the next commit (through the same
   * path as a batch: captured, broadcast, made durable), and waits until it
   * is durable. A step that throws rolls everything back: the document
   * stays at its schema version and serves, and joining clients are told.
   */
  private async migrate(): Promise<void> {
    const migrations = migrationsOf(this.options.reducers);
    const from = this.schemaVersion;
    if (from >= migrations.length) return;
    const lsn = this.lsn + 1;
    this.volume.wake();
    try {
      runMigrations(this.volume.db, this.tx, migrations, from, lsn, this.options.docId);
    } catch (error) {
      if (!(error instanceof MigrationError)) {
        // The WAL may hold a commit the log never will: close without a checkpoint (see fail).
        this.fail(error);
        throw error;
      }
      this.migrationFailure = error;
      this.options.logger.error(
        { err: error.cause, step: error.step, schemaVersion: from, appSchemaVersion: migrations.length },
        `migration failed: ${error.message}`,
      );
      return;
    }
    if (!this.commit(NO_MUTATIONS)) throw new QuireError('internal', `migrating document "${this.options.docId}" wrote no commit to the WAL`);
    // Nobody is served a state that could vanish with the migration.
    await this.writer.caughtUp();
    this.schemaVersion = migrations.length;
    this.migrated = { from, to: migrations.length, lsn };
    this.options.logger.info({ from, to: migrations.length, lsn }, `document migrated from schema version ${from} to ${migrations.length}`);
  }

  /**
   * Writes a log checkpoint at the current LSN, then compacts the log to the
   * retention window. Call only where every applied commit is durable: the
   * pages are read here, synchronously; the write and compaction go on
   * without holding up the drain. Resolves (or rejects) once written and compacted.
   */
  checkpointLog(): Promise<{ lsn: number; commitsRemoved: number; checkpointsRemoved: number }> {
    const checkpoint: Checkpoint = { lsn: this.lsn, pageCount: this.volume.pageCount, ...this.rejections.state(), recent: this.recent.list() };
    const pages = this.volume.snapshot();
    this.policy.checkpointed(checkpoint.lsn);
    const write = (async () => {
      await this.logCheckpoint?.catch(() => {});
      await this.options.log.writeCheckpoint(checkpoint, pages);
      const removed = await this.options.log.compact(this.policy.keepAfter(checkpoint.lsn));
      this.options.logger.debug({ lsn: checkpoint.lsn, pageCount: checkpoint.pageCount, ...removed }, 'log checkpoint written');
      return { lsn: checkpoint.lsn, ...removed };
    })();
    const tracked = write.then(() => {}, (error: unknown) => {
      // The log still opens from its previous checkpoint; the next one is tried after as many commits again.
      this.options.logger.warn({ err: error, lsn: checkpoint.lsn }, `document "${this.options.docId}": writing a log checkpoint failed`);
    });
    this.logCheckpoint = tracked;
    void tracked.finally(() => {
      if (this.logCheckpoint === tracked) this.logCheckpoint = undefined;
    });
    return write;
  }

  /** Whether the policy wants a log checkpoint now (and none is being written). */
  private get logCheckpointDue(): boolean {
    if (this.logCheckpoint || this.closed) return false;
    return this.policy.due(this.lsn, this.recent.pagesAfter(this.policy.lastCheckpointLsn), this.volume.pageCount);
  }

  /** True when nobody is connected and nothing is queued, in flight or waiting to be durable. */
  get idle(): boolean {
    return this.members.size === 0 && this.between.length === 0 && this.queue.length === 0 && !this.drainPromise && this.writer.backlog === 0;
  }

  /** Every commit up to this LSN is durable in the log (at most `lsn`). */
  get durableLsn(): number {
    return this.writer.durableLsn;
  }

  get docId(): string {
    return this.options.docId;
  }

  /** Bytes the commit log holds in its storage, for metrics: 0 for a log that does not say, or one closing under the count. */
  async logBytes(): Promise<number> {
    try {
      const bytes = await this.options.log.storedBytes?.();
      return bytes ? bytes.commits + bytes.checkpoints : 0;
    } catch {
      return 0;
    }
  }

  /** A client said hello: it is welcomed between batches, at a durable LSN. */
  join(peer: Peer, lastLsn: number, fromSeq: number, partial = false, held: readonly number[] = []): void {
    this.assertOpen();
    if (this.behindSharedLog(peer.clientId, lastLsn, fromSeq)) {
      // Told with the others in `fail`: it reconnects to the reopened document.
      this.between.push({ kind: 'join', join: { peer, lastLsn, fromSeq, partial, held } });
      this.fail(new QuireError('log_fenced', `client "${peer.clientId}" saw LSN ${lastLsn} of document "${this.options.docId}" but this node is at LSN ${this.lsn}: another node wrote to the shared log; this node stepped down and reopens from it — clients will reconnect`));
      return;
    }
    // Before any push of this connection is judged by the seq rule.
    const expected = this.seqs.settledBelow(peer.clientId, fromSeq);
    if (expected !== undefined) {
      this.options.logger.error(
        { clientId: peer.clientId, fromSeq, expectedSeq: expected, lastLsn, lsn: this.lsn },
        `document "${this.options.docId}" lost commits: client "${peer.clientId}" was told its mutations up to seq ${fromSeq - 1} were settled, but the document has them only up to seq ${expected - 1} (it is at LSN ${this.lsn}, the client saw ${lastLsn}); the client goes on from seq ${fromSeq} with a fresh snapshot — check that the commit log's storage makes writes durable before it acknowledges them (fsync), and whether the folder was restored from a backup`,
      );
      // Its pages are of a history this document lost, even at an LSN the document has
      // reached again: a catch-up would patch pages it does not have. It starts over.
      this.between.push({ kind: 'join', join: { peer, lastLsn: 0, fromSeq, partial, held: [] } });
    } else {
      this.between.push({ kind: 'join', join: { peer, lastLsn, fromSeq, partial, held } });
    }
    this.kick();
  }

  /**
   * A hello from a client that saw commits this coordinator lacks, with seqs
   * settled past what it has. On a log other nodes write, this node is most
   * likely behind, not the log short of commits: it must reopen from the log
   * rather than take them for lost. Once it has applied nothing since it read
   * the log, it trusts what it read (else a log that really lost commits
   * would make it reopen forever).
   */
  private behindSharedLog(clientId: string, lastLsn: number, fromSeq: number): boolean {
    return this.options.log.shared === true && lastLsn > this.lsn && this.lsn !== this.openedLsn && fromSeq > this.seqs.expected(clientId);
  }

  /** A partial client dropped these pages: their changes no longer go to it. */
  forget(peer: Peer, pgnos: readonly number[]): void {
    const held = this.held.get(peer);
    if (held) for (const pgno of pgnos) held.delete(pgno);
  }

  /**
   * Answers a client's page request between batches, once everything applied
   * is durable: every commit up to its LSN, and the `durable` message for it,
   * has already gone out on the same socket.
   */
  readPages(peer: Peer, id: number, pgnos: readonly number[]): void {
    this.assertOpen();
    this.between.push({
      kind: 'task',
      run: () => {
        if (!this.members.has(peer)) return;
        const pages = this.volume.pages(pgnos.slice(0, MAX_PAGES_PER_REQUEST));
        const held = this.held.get(peer);
        if (held) for (const page of pages) held.add(page.pgno);
        // The client applies the pages to its durable base: it must know that base is at this LSN.
        this.notices.catchUp(peer);
        peer.send(serverFrame({ type: 'pages', id, lsn: this.lsn, pageCount: this.volume.pageCount, pages }));
        this.options.hostMetrics?.served('request', pages.length);
      },
      fail: () => {},
    });
    this.kick();
  }

  /** Every page of the document at a durable LSN. */
  snapshot(): Promise<{ lsn: number; pageCount: number; pages: PageImage[] }> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      this.between.push({
        kind: 'task',
        run: () => {
          try {
            resolve({ lsn: this.lsn, pageCount: this.volume.pageCount, pages: this.volume.snapshot() });
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      });
      this.kick();
    });
  }

  leave(peer: Peer): void {
    this.members.delete(peer);
    this.held.delete(peer);
    this.notices.left(peer);
    const i = this.between.findIndex((b) => b.kind === 'join' && b.join.peer === peer);
    if (i >= 0) this.between.splice(i, 1);
  }

  /**
   * Queues a client's mutations from index `from` on, by the seq rule (see
   * `ClientSeqs`): a resend is skipped; a gap gets a `seq_gap` error and ends
   * the push. `admit` may hold back a new mutation (its client is at a
   * limit): the push stops there and returns that index, to go on from
   * later. Undefined: the push is done.
   */
  push(peer: Peer, mutations: readonly Mutation[], from = 0, admit: (m: Mutation) => boolean = () => true): number | undefined {
    this.assertOpen();
    const { clientId } = peer;
    let held: number | undefined;
    for (let i = from; i < mutations.length; i++) {
      const m = mutations[i]!;
      const verdict = this.seqs.verdict(clientId, m.seq);
      if (verdict === 'resend') continue;
      if (verdict === 'gap') {
        peer.sendError('seq_gap', `expected seq ${this.seqs.expected(clientId)} from client "${clientId}" but got ${m.seq} — resend pending mutations in order, starting from the oldest unconfirmed one`, m.seq, false);
        break;
      }
      if (!admit(m)) {
        held = i;
        break;
      }
      this.seqs.queued(clientId, m.seq);
      this.queue.push({ clientId, seq: m.seq, name: m.name, argsJson: m.args, userId: peer.userId, appVersion: peer.appVersion });
    }
    this.kick();
    return held;
  }

  /** A mutation that starts on the server. Resolves with its commit's LSN once that is durable. */
  mutate(name: string, argsJson: string, userId?: string): Promise<{ lsn: number }> {
    this.assertOpen();
    const mutation: QueuedMutation = { clientId: SERVER_CLIENT_ID, seq: 0, name, argsJson, userId };
    const result = new Promise<{ lsn: number }>((resolve, reject) => this.waiters.set(mutation, { resolve, reject }));
    this.queue.push(mutation);
    this.kick();
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drainPromise;
    // An append that fails now stops the coordinator (see fail).
    await this.writer.caughtUp().catch(() => {});
    this.notices.flush();
    this.notices.stop();
    if (this.stopped) {
      await this.stopped;
      return;
    }
    for (const [, waiter] of this.waiters) waiter.reject(new QuireError('server_closed', 'the server closed before this mutation was applied'));
    this.waiters.clear();
    await this.logCheckpoint;
    try {
      this.volume.close();
      await this.options.log.close();
    } finally {
      this.lock.release();
    }
  }

  /** True once `close` began: the document drains, and takes no more mutations. */
  get closing(): boolean {
    return this.closed;
  }

  /** Stops coordinating at once (another node took the document over): clients get the error's code and reconnect. */
  stepDown(reason: QuireError): void {
    if (!this.failure && !this.closed) this.fail(reason);
  }

  /** Runs `fn` on the authoritative database (tests and admin tools). Never write through it. */
  read<T>(fn: (db: DocumentVolume['db']) => T): T {
    this.volume.wake();
    return fn(this.volume.db);
  }

  private kick(): void {
    if (this.drainPromise || this.failure) return;
    // After this turn's I/O callbacks: mutations that arrived together on any connection go in one batch.
    this.drainPromise = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.drainPromise = undefined;
        if (!this.failure && (this.queue.length > 0 || this.between.length > 0)) this.kick();
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.between.length > 0) {
      if (this.queue.length > 0) {
        if (this.writer.backlog >= MAX_UNDURABLE_COMMITS) await this.writer.caughtUp();
        this.commitBatch(this.queue.splice(0, this.options.maxBatch ?? 1000));
      }
      if (this.between.length === 0 && !this.durablePointDue()) continue;
      // Joins, page reads and checkpoints see durable state only: no new batch until they ran.
      await this.writer.caughtUp();
      this.atDurablePoint();
      for (const item of this.between.splice(0)) {
        if (item.kind === 'join') this.welcome(item.join);
        else item.run();
      }
    }
  }

  /** Whether work is due that must wait until everything applied is durable. */
  private durablePointDue(): boolean {
    return this.volume.checkpointDue || this.logCheckpointDue;
  }

  /**
   * Everything applied is durable (`durableLsn === lsn`): the one place for
   * work that must never see a commit the log may lose, such as copying the
   * WAL into the db file (a checkpoint would put a non-durable commit out of
   * `rollbackWalTo`'s reach).
   */
  private atDurablePoint(): void {
    this.volume.maybeCheckpoint();
    // A log checkpoint reads its pages here; the write and compaction go on behind.
    if (this.logCheckpointDue) void this.checkpointLog().catch(() => {});
  }

  /** Applies a batch and broadcasts its commit at once; the writer makes it durable behind. */
  private commitBatch(batch: QueuedMutation[]): void {
    this.volume.wake();
    const start = performance.now();
    const result = runBatch(this.volume.db, this.tx, this.options.reducers, batch, this.timeLimit?.run);
    // A batch of one client's calls alone, all applied: that client gets the commit once durable (see DurableNotices).
    const first = batch[0]?.clientId;
    const soleWriter = result.rejections.length === 0 && batch.every((m) => m.clientId === first && m.seq > 0) ? first : undefined;
    this.commit(result, soleWriter);
    this.options.hostMetrics?.batchApplied(batch.length, result.rejections, (performance.now() - start) / 1000);
    const lsn = this.lsn;
    batch.forEach((m, i) => {
      const rejection = result.outcomes[i];
      if (rejection) this.options.logger.info({ clientId: m.clientId, seq: m.seq, reducer: m.name, code: rejection.code }, `mutation rejected: ${rejection.code}`);
      const waiter = this.waiters.get(m);
      if (!waiter) return;
      this.waiters.delete(m);
      // Settled once the commit is durable: a crash before that undoes it.
      this.applied.push({ lsn, waiter, rejection: rejection && new MutationRejectedError(rejection.code, rejection.message, m.name, 0) });
    });
    this.settleApplied();
  }

  /**
   * Takes the transaction just committed from the WAL as the next LSN:
   * applied state from here on, broadcast at once, handed to the writer.
   * False when the transaction changed nothing.
   */
  private commit(result: BatchResult, soleWriter?: string): boolean {
    // Previous images are for deltas: only needed when someone will be sent them.
    const captured = this.volume.capture(this.members.size > 0);
    if (!captured) return false;
    const record: CommitRecord = {
      lsn: this.lsn + 1,
      pageCount: captured.commit.pageCount,
      pages: [...captured.commit.pages].map(([pgno, data]) => ({ pgno, data })).sort((a, b) => a.pgno - b.pgno),
      settled: result.settled,
      rejections: result.rejections,
      volume: captured.mark,
    };
    this.lsn = record.lsn;
    // Keyed by LSN anyway: this only frees it sooner.
    this.sharedSnapshot = undefined;
    // Applied state, not durable state: a resend of an applied mutation is
    // skipped, and a reconnecting client catches up from here.
    this.recent.add(record.lsn, record.pages.map((p) => p.pgno));
    for (const s of record.settled) this.seqs.applied(s.clientId, s.lastSeq);
    if (this.members.size > 0) {
      const { commit, frame } = this.commitMessage(record, captured.previous);
      this.broadcast(record, commit, frame, soleWriter);
    }
    this.writer.add(record);
    if (this.options.hostMetrics) {
      this.options.hostMetrics.committed();
      this.appliedAt.push(performance.now());
    }
    return true;
  }

  /** The writer made these commits durable: they are final, and every client hears so. */
  private durable(records: readonly CommitRecord[]): void {
    const metrics = this.options.hostMetrics;
    if (metrics) {
      const now = performance.now();
      for (const at of this.appliedAt.splice(0, records.length)) metrics.durable((now - at) / 1000);
    }
    // A rejection is final only once durable: only then does a reconnecting client hear of it.
    for (const record of records) for (const r of record.rejections) if (r.seq > 0) this.rejections.add(r);
    if (this.members.size > 0) {
      // Clients whose mutations these commits settle (or refused) hear it now; the rest soon.
      const waiting = new Set<string>();
      for (const record of records) {
        for (const s of record.settled) waiting.add(s.clientId);
        for (const r of record.rejections) waiting.add(r.clientId);
      }
      this.notices.durable(this.writer.durableLsn, (peer) => waiting.has(peer.clientId));
    }
    this.settleApplied();
  }

  private settleApplied(): void {
    while (this.applied.length > 0 && this.applied[0]!.lsn <= this.writer.durableLsn) {
      const { lsn, waiter, rejection } = this.applied.shift()!;
      if (rejection) waiter.reject(rejection);
      else waiter.resolve({ lsn });
    }
  }

  /**
   * The commit as sent to full replicas. Every member is at the previous LSN
   * and holds the previous image of each page it is sent: a delta from it is
   * enough. Copy/insert deltas cost ~40 us a page; a bulk commit goes by XOR.
   */
  private commitMessage(record: CommitRecord, previous: Map<number, Uint8Array>): { commit: CommitMessage; frame: ServerFrame } {
    const copy = record.pages.length <= COPY_DELTA_MAX_PAGES;
    const siblings = copy ? siblingSources(record.pages, previous) : undefined;
    const commit: CommitMessage = {
      type: 'commit',
      lsn: record.lsn,
      span: 1,
      pageCount: record.pageCount,
      // A page rebalanced with a sibling may go as a delta from both images: every member holds them.
      pages: record.pages.map(({ pgno, data }) => ({ pgno, ...encodePageChange(previous.get(pgno), data, copy, siblings) })),
      forgotten: [],
      durableLag: record.lsn - this.writer.durableLsn,
    };
    return { commit, frame: serverFrame(commit) };
  }

  private broadcast(record: CommitRecord, commit: CommitMessage, frame: ServerFrame, soleWriter: string | undefined): void {
    const writers = new Set(record.settled.map((s) => s.clientId));
    const rejected = new Map<string, Rejection[]>();
    for (const r of record.rejections) {
      if (r.seq === 0) continue;
      let list = rejected.get(r.clientId);
      if (!list) rejected.set(r.clientId, (list = []));
      list.push(r);
    }
    // Other clients first: they have yet to see the change, while its writers applied it already.
    const order = [...this.members].sort((a, b) => Number(writers.has(a.clientId)) - Number(writers.has(b.clientId)));
    const durableLsn = record.lsn - commit.durableLag;
    // The new images by page number, for partial clients (made at the first).
    let newImages: Map<number, Uint8Array> | undefined;
    for (const peer of order) {
      this.notices.release(peer);
      // A client's own rejections only, right before the commit it settles them with.
      const rejections = rejected.get(peer.clientId);
      if (rejections) peer.send(serverFrame({ type: 'rejections', lsn: record.lsn, rejections }));
      const held = this.held.get(peer);
      if (!held) {
        if (peer.clientId === soleWriter) {
          this.notices.hold(peer, commit, frame);
          continue;
        }
        peer.send(frame);
        this.notices.carried(peer, durableLsn);
        continue;
      }
      this.notices.carried(peer, durableLsn);
      // A partial client gets the pages it holds only...
      for (const pgno of held) if (pgno > record.pageCount) held.delete(pgno);
      // ...plus, whole, every page a commit of its own mutations changed: its
      // next local apply needs them, and pages new to the document existed
      // only in its overlay. Without them an offline edit could not apply.
      const joining = writers.has(peer.clientId) ? record.pages.filter((p) => !held.has(p.pgno)) : [];
      const { images, forgotten } = this.split(record.pages.map((p) => p.pgno), held);
      const keep = new Set(images);
      // Their deltas are from images the client never had: those go whole,
      // as does a page whose delta needs a sibling the client does not hold.
      const byPgno = (newImages ??= new Map(record.pages.map((p) => [p.pgno, p.data])));
      const whole = (pgno: number) => ({ pgno, encoding: PageEncoding.image, data: byPgno.get(pgno)! });
      const kept = commit.pages.filter((p) => keep.has(p.pgno)).map((p) => (keep.has(siblingOf(p) ?? p.pgno) ? p : whole(p.pgno)));
      const pages = [...kept, ...joining.map(({ pgno }) => whole(pgno))];
      const joined = new Set(joining.map((p) => p.pgno));
      for (const pgno of joined) held.add(pgno);
      peer.send(serverFrame({ ...commit, pages: pages.sort((x, y) => x.pgno - y.pgno), forgotten: forgotten.filter((p) => !joined.has(p.pgno)) }));
    }
  }

  private welcome(join: Join): void {
    const { peer, lastLsn, fromSeq, partial } = join;
    const held = partial ? new Set(join.held.filter((pgno) => pgno <= this.volume.pageCount)) : undefined;
    if (held) this.held.set(peer, held);
    const send = (message: ServerMessage) => peer.send(serverFrame(message));
    const rejections: Rejection[] = this.rejections.since(peer.clientId, fromSeq);
    send({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, appVersion: appVersionOf(this.options.reducers), schemaVersion: this.schemaVersion, rejections, lsn: this.lsn, maxMessageBytes: peer.maxMessageBytes });
    // Not fatal: the document serves at its old schema version.
    if (this.migrationFailure) peer.sendError('migration_failed', this.migrationFailure.message, 0, false);
    const changed = lastLsn > 0 ? this.recent.changedSince(lastLsn, this.lsn) : undefined;
    if (changed) {
      if (lastLsn < this.lsn) {
        const { images, forgotten } = this.split([...changed], held);
        // Catching up over several commits: the client's images are older than any kept here.
        const pages = this.volume.pages(images).map(({ pgno, data }) => ({ pgno, encoding: PageEncoding.image, data }));
        send({ type: 'commit', lsn: this.lsn, span: this.lsn - lastLsn, pageCount: this.volume.pageCount, pages, forgotten, durableLag: 0 });
        this.options.hostMetrics?.served('catch_up', pages.length);
      }
    } else if (held) {
      const pages = this.volume.structuralPages();
      held.clear();
      for (const page of pages) held.add(page.pgno);
      for (const message of this.snapshotMessages(pages)) send(message);
      this.options.hostMetrics?.served('snapshot', pages.length);
    } else {
      const snapshot = this.snapshotFrames();
      for (const frame of snapshot.frames) peer.send(frame);
      this.options.hostMetrics?.served('snapshot', snapshot.pages);
    }
    this.members.add(peer);
    // Welcomed at a durable LSN (joins run once everything applied is durable).
    this.notices.joined(peer, this.lsn);
  }

  /** The whole document at the current LSN, as sent to a full client (see `sharedSnapshot`). */
  private snapshotFrames(): { frames: ServerFrame[]; pages: number } {
    if (this.sharedSnapshot?.lsn === this.lsn) return this.sharedSnapshot;
    const pages = this.volume.snapshot();
    const frames = this.snapshotMessages(pages).map(serverFrame);
    const bytes = frames.reduce((sum, frame) => sum + frame.bytes.byteLength, 0);
    const snapshot = { lsn: this.lsn, frames, pages: pages.length };
    this.sharedSnapshot = bytes <= SHARED_SNAPSHOT_MAX_BYTES ? snapshot : undefined;
    return snapshot;
  }

  /** `pages` in snapshot messages of `snapshotChunkPages` each (at least one message). */
  private snapshotMessages(pages: PageImage[]): ServerMessage[] {
    const chunk = this.options.snapshotChunkPages ?? 256;
    const messages: ServerMessage[] = [];
    for (let i = 0; i === 0 || i < pages.length; i += chunk) {
      const done = i + chunk >= pages.length;
      messages.push({ type: 'snapshot', lsn: this.lsn, pageCount: this.volume.pageCount, pages: pages.slice(i, i + chunk), done });
    }
    return messages;
  }

  /** Changed pages a partial client holds (send images) and the rest (send numbers). */
  private split(changed: readonly number[], held: Set<number> | undefined): { images: number[]; forgotten: { pgno: number }[] } {
    if (!held) return { images: [...changed], forgotten: [] };
    const images: number[] = [];
    const forgotten: { pgno: number }[] = [];
    for (const pgno of changed) {
      if (held.has(pgno)) images.push(pgno);
      else forgotten.push({ pgno });
    }
    return { images, forgotten };
  }

  /**
   * A batch failed or could not be made durable: refuse all further work,
   * and close the files without a checkpoint so that a new coordinator can
   * reopen the document from its log (see `onFailure`).
   */
  private fail(error: unknown): void {
    // The writer and the drain can both report one failure.
    if (this.failure) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    const moved = (this.failure as QuireError).code === 'document_moved';
    const code = moved ? 'document_moved' : 'server_error';
    const message = moved ? this.failure.message : `document "${this.options.docId}" stopped after an internal error: ${this.failure.message} — reconnect to retry`;
    for (const peer of this.members) peer.sendError(code, message, 0, true);
    for (const item of this.between) {
      if (item.kind === 'join') item.join.peer.sendError(code, message, 0, true);
      else item.fail(new QuireError(code, message, { cause: this.failure }));
    }
    for (const [, waiter] of this.waiters) waiter.reject(new QuireError(code, message, { cause: this.failure }));
    for (const { waiter } of this.applied) waiter.reject(new QuireError(code, message, { cause: this.failure }));
    this.waiters.clear();
    this.applied.length = 0;
    this.members.clear();
    this.notices.stop();
    this.between.length = 0;
    this.queue.length = 0;
    this.stopped = this.closeAfterFailure();
    // While opening, the open's rejection reports it.
    if (!this.opening) this.options.onFailure?.(this.failure, this.stopped);
  }

  private async closeAfterFailure(): Promise<boolean> {
    await this.logCheckpoint;
    let safe = true;
    try {
      this.volume.discard();
    } catch (error) {
      // Closing it normally would checkpoint a commit the log may not have; only a restart rolls it back.
      safe = false;
      this.options.logger.error({ err: error }, `document "${this.options.docId}" could not be closed safely after its failure; it stays stopped — restart the process`);
    }
    // An append under way ends first: the log must not close under it.
    await this.writer.stop();
    await this.options.log.close().catch((error: unknown) => {
      this.options.logger.warn({ err: error }, `document "${this.options.docId}": closing its commit log after the failure failed`);
    });
    // A volume that could not be closed safely keeps the document locked until the process ends.
    if (safe) this.lock.release();
    return safe;
  }

  private assertOpen(): void {
    if (this.closed) throw new QuireError('server_closed', `document "${this.options.docId}" is closing — reconnect`);
    if (this.failure) throw new QuireError('server_error', `document "${this.options.docId}" failed: ${this.failure.message} — reconnect`);
  }
}
