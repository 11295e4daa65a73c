import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The metrics of the sync server's main thread, which holds every socket:
 * connections, and the requests to the S3 bucket. What the documents and
 * their sessions do is in {@link HostMetrics}, recorded where they run.
 */
export class ServerMetrics {
  private readonly connections: Counter;
  private readonly refusals: Counter<'code'>;
  private readonly s3Failures: Counter<'operation'>;

  /** `openConnections` is read at scrape time (what `/healthz` says too). */
  constructor(registry: Registry, openConnections: () => number) {
    const registers = [registry];
    new Gauge({ name: 'quire_connections_open', help: 'WebSocket connections open now (clients, and clients relayed to another cluster node).', registers, collect() { this.set(openConnections()); } });
    this.connections = new Counter({ name: 'quire_connections_total', help: 'WebSocket connections accepted since start, refused ones included.', registers });
    this.refusals = new Counter({
      name: 'quire_connections_refused_total',
      help: 'Connections refused before a session began, by error code (invalid_doc_id, unauthorized, document_moved, document_unavailable, ...).',
      labelNames: ['code'],
      registers,
    });
    this.s3Failures = new Counter({
      name: 'quire_s3_request_failures_total',
      help: 'Requests to the S3 bucket that failed (each failed attempt, retried or not), by operation (GET, PUT, HEAD, DELETE, LIST).',
      labelNames: ['operation'],
      registers,
    });
  }

  connected(): void {
    this.connections.inc();
  }

  /** `code` is one of Quire's error codes: a bounded set. */
  refused(code: string): void {
    this.refusals.inc({ code });
  }

  s3RequestFailed(operation: string): void {
    this.s3Failures.inc({ operation });
  }
}
