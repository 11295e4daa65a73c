import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a {@link HostMetrics} reads at scrape time instead of counting. */
export interface HostMetricSources {
  /** Documents open (or opening) now. */
  documents(): number;
  /** Bytes the open documents' commit logs hold on disk now. */
  logBytes(): Promise<number>;
}

/** Where a client's pages came from, for `quire_pages_served_total`. */
export type PagesServedKind = 'request' | 'snapshot' | 'catch_up';

/**
 * Rejection codes are the app's (a reducer's QuireError): past this many
 * distinct ones, new codes count as `other`, so that an app that puts ids in
 * its codes cannot grow the series without bound.
 */
export const MAX_REJECTION_CODES = 50;

// Group commits take ~0.1 ms for one small mutation, up to seconds for a huge batch.
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// An fsync takes ~1 ms, an object-store PUT 5-50 ms, a struggling one seconds.
const DURABILITY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics of one thread's documents and sessions (a `DocumentHost`): the
 * sync server's own thread, or each document worker, whose figures the main
 * thread adds up at scrape time (workers/worker-metrics.ts). No label names
 * a document or a client: a server holds far too many of them.
 *
 * Calls on the hot path (every frame, every commit) are plain increments;
 * labelled counters that every frame would touch are tallied in numbers and
 * handed to prom-client at scrape time.
 */
export class HostMetrics {
  private readonly documentsOpened: Counter;
  private readonly openFailures: Counter;
  private readonly stops: Counter;
  private readonly applied: Counter;
  private readonly rejected: Counter<'code'>;
  private readonly rejectionCodes = new Set<string>();
  private readonly commits: Counter;
  private readonly commitSeconds: Histogram;
  private readonly durabilitySeconds: Histogram;
  private readonly receivedBytes: Counter;
  private readonly sentBytes: Counter;
  /** Frames sent by message type since start, and what prom-client has been told of. */
  private readonly framesSent = new Map<string, number>();
  private readonly framesReported = new Map<string, number>();
  private readonly pagesServed: Counter<'kind'>;

  constructor(registry: Registry, sources: HostMetricSources) {
    const registers = [registry];
    new Gauge({ name: 'quire_documents_open', help: 'Documents open (or opening) now; an idle one closes after idleCloseMs.', registers, collect() { this.set(sources.documents()); } });
    this.documentsOpened = new Counter({ name: 'quire_documents_opened_total', help: 'Documents opened (recovered from their logs and migrated) since start, reopens included.', registers });
    this.openFailures = new Counter({
      name: 'quire_document_open_failures_total',
      help: 'Documents that failed to open (the log says why; the next connection retries after a backoff).',
      registers,
    });
    this.stops = new Counter({
      name: 'quire_document_stops_total',
      help: 'Open documents that stopped after an internal error (a failed batch or log append); each reopens from its log on the next connection.',
      registers,
    });
    this.applied = new Counter({ name: 'quire_mutations_applied_total', help: 'Mutations applied (from clients and server.mutate), counted when their commit is applied, before it is durable.', registers });
    this.rejected = new Counter({
      name: 'quire_mutations_rejected_total',
      help: `Mutations rejected, by the code of the error (a reducer's, or Quire's such as unknown_reducer or update_required); past ${MAX_REJECTION_CODES} distinct codes, code="other".`,
      labelNames: ['code'],
      registers,
    });
    this.commits = new Counter({ name: 'quire_commits_total', help: 'Commits made (each is one LSN): group commits of mutations, and migrations.', registers });
    this.commitSeconds = new Histogram({
      name: 'quire_commit_duration_seconds',
      help: 'Time to apply one batch of mutations: from running its first reducer until its commit was taken from the WAL and sent to the clients.',
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.durabilitySeconds = new Histogram({
      name: 'quire_durability_wait_seconds',
      help: 'Time from a commit being applied (and sent to the clients) until the commit log had made it durable; clients settle their mutations only then.',
      buckets: DURABILITY_BUCKETS,
      registers,
    });
    this.receivedBytes = new Counter({ name: 'quire_websocket_received_bytes_total', help: 'Bytes of WebSocket message payload received from clients.', registers });
    this.sentBytes = new Counter({ name: 'quire_websocket_sent_bytes_total', help: 'Bytes of WebSocket message payload sent to clients.', registers });
    const { framesSent, framesReported } = this;
    new Counter({
      name: 'quire_frames_sent_total',
      help: 'WebSocket messages sent to clients, by message type (commit, durable, pages, snapshot, welcome, error, ...; see docs/PROTOCOL.md).',
      labelNames: ['type'],
      registers,
      collect() {
        for (const [type, count] of framesSent) {
          const reported = framesReported.get(type) ?? 0;
          if (count === reported) continue;
          this.inc({ type }, count - reported);
          framesReported.set(type, count);
        }
      },
    });
    this.pagesServed = new Counter({
      name: 'quire_pages_served_total',
      help: 'Page images sent to clients outside commits: kind="request" answers partial replicas\' getPages, "snapshot" is a joining client\'s snapshot, "catch_up" the pages a reconnecting client missed.',
      labelNames: ['kind'],
      registers,
    });
    new Gauge({
      name: 'quire_commit_log_bytes',
      help: "Bytes the open documents' commit logs hold (commits and checkpoints): on disk, measured at scrape time, or in the bucket with S3, as each log counts what it listed, wrote and deleted.",
      registers,
      async collect() {
        this.set(await sources.logBytes());
      },
    });
  }

  /** Each metric's name, help and type, without recording anything (for the main thread of a worker pool). */
  static describe(): Array<{ name: string; help: string; type: string }> {
    const registry = new Registry();
    new HostMetrics(registry, { documents: () => 0, logBytes: async () => 0 });
    return registry.getMetricsAsArray().map((m) => ({ name: m.name, help: m.help, type: String(m.type) }));
  }

  documentOpened(): void {
    this.documentsOpened.inc();
  }

  documentOpenFailed(): void {
    this.openFailures.inc();
  }

  documentStopped(): void {
    this.stops.inc();
  }

  /** A commit was made (any commit: a batch or a migration). */
  committed(): void {
    this.commits.inc();
  }

  /** A batch was applied: `size` mutations, of which these codes were rejected, in `seconds`. */
  batchApplied(size: number, rejections: ReadonlyArray<{ code: string }>, seconds: number): void {
    this.applied.inc(size - rejections.length);
    for (const { code } of rejections) this.rejected.inc({ code: this.rejectionCode(code) });
    this.commitSeconds.observe(seconds);
  }

  /** A commit became durable `seconds` after it was applied. */
  durable(seconds: number): void {
    this.durabilitySeconds.observe(seconds);
  }

  received(bytes: number): void {
    this.receivedBytes.inc(bytes);
  }

  sent(type: string, bytes: number): void {
    this.sentBytes.inc(bytes);
    this.framesSent.set(type, (this.framesSent.get(type) ?? 0) + 1);
  }

  served(kind: PagesServedKind, pages: number): void {
    if (pages > 0) this.pagesServed.inc({ kind }, pages);
  }

  private rejectionCode(code: string): string {
    if (this.rejectionCodes.has(code)) return code;
    if (this.rejectionCodes.size >= MAX_REJECTION_CODES) return 'other';
    this.rejectionCodes.add(code);
    return code;
  }
}
