import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { Registry } from 'prom-client';
import { QuireError, type ReducerArgs, type Reducers } from '@quire/core';
import { appVersionOf, assertReducersOption, encodeArgs, migrationsOf, type PageImage } from '@quire/core/internal';
import { rehearseMigrations } from './coordinator/run-migrations.js';
import { ID_RULE, encodeMessage, isValidDocId } from '@quire/core/protocol';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DocumentHost } from './document-host.js';
import type { RegistryOptions } from './document-registry.js';
import { type ServerLimits, resolveLimits } from './limits.js';
import type { CommitLog } from './log/commit-log.js';
import { S3CommitLog } from './log/s3/s3-commit-log.js';
import type { S3LogOptions } from './log/s3/s3-log-options.js';
import { S3Store } from './log/s3/s3-store.js';
import { DocumentPlacement } from './cluster/document-placement.js';
import { S3ClientOwners } from './cluster/s3-client-owners.js';
import { S3Objects } from './cluster/s3-objects.js';
import { relaySocket } from './cluster/socket-relay.js';
import { type Logger, defaultLogger } from './logger.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { CLOSE } from './session.js';
import { DEFAULT_PING_INTERVAL_MS, SocketLiveness } from './socket-liveness.js';
import { WorkerPool } from './workers/worker-pool.js';
import { relayWorkerMetrics } from './workers/worker-metrics.js';

/** What `authorize` receives: the WebSocket upgrade request and the document it asks for. */
export interface AuthorizeRequest {
  request: IncomingMessage;
  docId: string;
}

/** Returns the user, or `null`/`false` (or throws) to refuse the connection. */
export type Authorize = (
  request: AuthorizeRequest,
) => { userId: string } | null | false | Promise<{ userId: string } | null | false>;

export interface SyncServerOptions<R extends Reducers> extends Omit<RegistryOptions, 'reducers' | 'dataDir' | 'logger' | 'reducerTime' | 'hostMetrics'> {
  reducers: R;
  /**
   * Where the server logs: your app's own pino logger (the server adds
   * `docId` and `clientId` fields). At `info` it logs the start, connections
   * and their closes with reasons, rejected mutations by code, documents
   * opened, closed and stopped; warnings and errors always. Default: pino
   * at `warn` to stderr.
   *
   * @example
   * import { pino } from 'pino';
   * createSyncServer({ reducers, dataDir, logger: pino({ level: 'info' }) });
   */
  logger?: Logger;
  /** Where documents live: one folder per document. */
  dataDir: string;
  /**
   * Decides who may open which document. Default: everyone, with no userId.
   * Each client id of a document then belongs to the first userId that says
   * hello with it; another user's hello with it is refused (`client_id_taken`).
   */
  authorize?: Authorize;
  /** Largest message a client may send. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Only accept WebSocket upgrades on this path (e.g. "/sync"). Default: any path. */
  path?: string;
  /**
   * What one client may hold of the server, so that a client that floods it
   * slows down only itself: queued mutations, page requests in flight,
   * connections per client id, unsent bytes, and how long a reducer may
   * run (`reducerTimeMs`). Each is optional; see
   * {@link ServerLimits} for the defaults, and "Limits" in docs/PROTOCOL.md.
   *
   * @example
   * createSyncServer({ reducers, dataDir, limits: { maxQueuedMutations: 5000, maxConnectionsPerClient: 8 } });
   */
  limits?: Partial<ServerLimits>;
  /**
   * Keep each document's commit log in an S3-compatible bucket instead of
   * files (see docs/STORAGE.md). `dataDir` still holds each document's
   * SQLite volume. Not together with `commitLog`.
   *
   * @example
   * createSyncServer({ reducers, dataDir: './data', s3: { bucket: 'quire', endpoint: 'http://127.0.0.1:7480', forcePathStyle: true } });
   */
  s3?: S3LogOptions;
  /**
   * Run several server nodes over one bucket (needs `s3`): each document is
   * coordinated by one node at a time, found through a lease in the bucket;
   * a client that reaches another node is relayed to it, and when that node
   * dies another takes the document over once its lease runs out. See
   * docs/STORAGE.md.
   *
   * @example
   * createSyncServer({ reducers, dataDir, s3, cluster: { advertiseUrl: 'ws://10.0.0.5:8787' } });
   */
  cluster?: ClusterOptions;
  /**
   * Serve documents on worker threads, so that the server uses every core
   * and a busy document slows only those on its worker. Workers cannot
   * receive `reducers` (functions): each loads the app from `module`, a
   * path or file URL of a module that exports the same reducers (its
   * default export, or one named `app` or `reducers`; TypeScript works,
   * and `./reducers.js` names `reducers.ts` when only that exists).
   * `count` defaults to one per core (`os.availableParallelism()`). Each
   * document lives on one worker; the sockets stay in this thread.
   * Not yet together with `s3`, `cluster` or `commitLog`. See "Worker
   * threads" in docs/ARCHITECTURE.md.
   *
   * @example
   * createSyncServer({ reducers, dataDir, workers: { module: new URL('./reducers.js', import.meta.url) } });
   */
  workers?: WorkerOptions;
  /**
   * The server's Prometheus metrics (`quire_*`, see "Metrics" in
   * docs/OPERATIONS.md), which `listen()`'s HTTP server answers `GET
   * /metrics` with. Default: a prom-client `Registry` of the server's own
   * (`server.metricsRegistry`), without Node's process metrics: add those
   * with `collectDefaultMetrics({ register: server.metricsRegistry })`.
   * Pass your app's registry to have Quire's metrics in it (one server per
   * registry), or `false` for none.
   *
   * @example
   * import { Registry, collectDefaultMetrics } from 'prom-client';
   * const metrics = new Registry();
   * collectDefaultMetrics({ register: metrics });
   * createSyncServer({ reducers, dataDir, metrics });
   * // your own HTTP server: res.end(await metrics.metrics())
   */
  metrics?: Registry | false;
  /**
   * How often to check that connections are alive: a socket with no frame
   * and no answer to a ping for two to three intervals is closed, which drops
   * its client's presence (a half-open TCP connection sends no close).
   * Default 2000 ms (a dead connection goes 4 to 6 s after its last sign of life); `Infinity` turns the check off.
   */
  pingIntervalMs?: number;
}

export interface WorkerOptions {
  /** The app's module (path or `file:` URL), exporting the reducers. */
  module: string | URL;
  /** How many worker threads. Default: one per core. */
  count?: number;
}

export interface ClusterOptions {
  /**
   * Where the other nodes reach this node's sync endpoint, e.g.
   * `ws://10.0.0.5:8787`. Default: the URL `listen()` returns (which binds
   * 127.0.0.1 unless given a host). Required with `attach()`.
   */
  advertiseUrl?: string;
  /** This node's name in leases and logs. Default: a random id per process. */
  nodeId?: string;
  /** How long a dead node keeps its documents before another takes them over. Default 10 s. */
  leaseTtlMs?: number;
}

/** Marks a connection one node relayed to another, so that it is never relayed twice. */
const RELAYED_HEADER = 'x-quire-relayed';

// The WebSocket handshake's own headers, which the relay's new handshake makes afresh.
const HANDSHAKE_HEADERS = new Set(['host', 'connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length', 'transfer-encoding']);

/** The client's upgrade headers (its credentials, cookies, origin) as the coordinating node should see them. */
function relayHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HANDSHAKE_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const forwarded = request.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = [forwarded, request.socket.remoteAddress].filter(Boolean).join(', ');
  headers[RELAYED_HEADER] = '1';
  return headers;
}

export interface SyncServer<R extends Reducers> {
  /** Starts an HTTP server for the sync endpoint. Host defaults to 127.0.0.1. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Serves the sync endpoint from an existing HTTP server's upgrade requests. */
  attach(server: Server): void;
  /** Applies a mutation that starts on the server. Resolves once its commit is durable. */
  mutate<K extends keyof ReducerArgs<R> & string>(
    docId: string,
    name: K,
    args: ReducerArgs<R>[K],
    options?: { userId?: string },
  ): Promise<{ lsn: number }>;
  /** Every page of a document at its current LSN (for backups, tests and tools). */
  snapshot(docId: string): Promise<{ lsn: number; pageCount: number; pages: PageImage[] }>;
  /** What `/healthz` answers: documents open and connections now; `ok: false` (503) once `close()` began. */
  health(): Health;
  /** The registry of the server's metrics (what `/metrics` answers), or undefined with `metrics: false`. */
  readonly metricsRegistry: Registry | undefined;
  /**
   * Drains the server for a restart: stops taking connections (the
   * listening socket closes; `health()` says `draining`), applies the
   * mutations queued on every document and makes them durable (connected
   * clients hear it), closes the documents, then closes the client
   * connections with 1012 (Service Restart), which makes clients reconnect
   * within about a second. Logs how many documents are left while it waits.
   */
  close(): Promise<void>;
}

export interface Health {
  /** False once the server drains (`close()`): `/healthz` then answers 503. */
  ok: boolean;
  /** Present while the server drains. */
  draining?: true;
  /** Documents open (or opening) in this process. */
  documents: number;
  /** WebSocket connections open now. */
  connections: number;
}

// While draining, how often the log says how many documents are left.
const DRAIN_PROGRESS_MS = 1000;
// How long a drain waits for clients to answer its close frames before it cuts their sockets.
const CLOSE_HANDSHAKE_MS = 5000;

/** Resolves once every socket closed, or after `ms`. */
function closedWithin(sockets: WebSocket[], ms: number): Promise<void> {
  const open = sockets.filter((ws) => ws.readyState !== ws.CLOSED);
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    let waiting = open.length;
    for (const ws of open) {
      ws.once('close', () => {
        if (--waiting > 0) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

/** The path `listen()`'s HTTP server answers health checks on. */
export const HEALTH_PATH = '/healthz';

/** The path `listen()`'s HTTP server answers Prometheus scrapes on. */
export const METRICS_PATH = '/metrics';

/**
 * The Quire sync server: one coordinator per document, a commit log on
 * local files (or in an S3 bucket, with `s3`), and a WebSocket endpoint.
 *
 * @example
 * const server = createSyncServer({ reducers, dataDir: './data' });
 * const { url } = await server.listen(8787);
 */
export function createSyncServer<R extends Reducers>(options: SyncServerOptions<R>): SyncServer<R> {
  assertReducersOption(options, 'createSyncServer');
  const maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
  const limits = resolveLimits(options.limits);
  const logger = options.logger ?? defaultLogger();
  // A step that fails on an empty database fails for every new document: say so now, not at a client's first open.
  const rehearsal = rehearseMigrations(migrationsOf(options.reducers));
  if (rehearsal) logger.error({ code: rehearsal.code, err: rehearsal }, `the app's migrations fail on a new, empty document: ${rehearsal.message}`);
  if (options.s3 && options.commitLog) throw new TypeError('createSyncServer: pass either `s3` or `commitLog`, not both');
  const { pageCacheKib } = options;
  if (pageCacheKib !== undefined && !(Number.isInteger(pageCacheKib) && pageCacheKib > 0)) {
    throw new TypeError(`createSyncServer: pageCacheKib must be a whole number of KiB above 0, got ${String(pageCacheKib)}`);
  }
  const metricsRegistry = options.metrics === false ? undefined : (options.metrics ?? new Registry());
  // Set once the WebSocket server exists; read at scrape time only.
  let openConnections = () => 0;
  const serverMetrics = metricsRegistry && serverMetricsIn(metricsRegistry, () => openConnections());
  const s3 = options.s3 && new S3Store(options.s3, { onFailedRequest: (operation) => serverMetrics?.s3RequestFailed(operation) });
  const commitLog = s3 ? (docId: string): CommitLog => new S3CommitLog(s3, docId, options.s3) : options.commitLog;
  if (options.cluster && !options.s3) throw new TypeError('createSyncServer: `cluster` needs `s3`: the nodes share documents through the bucket');
  // Without an advertiseUrl, other nodes are told the URL `listen()` returns.
  const self = { nodeId: options.cluster?.nodeId ?? randomUUID(), address: options.cluster?.advertiseUrl ?? '' };
  // Set once the registry exists (a lost lease evicts the document from it).
  let evict = (_docId: string) => {};
  const placement =
    s3 && options.cluster
      ? new DocumentPlacement({
          objects: new S3Objects(s3),
          prefix: s3.prefix,
          self,
          ...(options.cluster.leaseTtlMs !== undefined && { leaseTtlMs: options.cluster.leaseTtlMs }),
          logger,
          onLost: (docId) => evict(docId),
        })
      : undefined;
  const sharedOwners = s3 && placement ? new S3ClientOwners(s3) : undefined;
  const pool = options.workers && startWorkers(options, options.workers, { maxMessageBytes, limits, logger, metrics: metricsRegistry !== undefined });
  if (pool && metricsRegistry) relayWorkerMetrics(metricsRegistry, pool);
  const host = pool
    ? undefined
    : new DocumentHost({
        ...options,
        ...(commitLog ? { commitLog } : {}),
        ...(placement && { placement }),
        ...(sharedOwners && { sharedOwners }),
        ...(metricsRegistry && { metricsRegistry }),
        logger,
        maxMessageBytes,
        limits,
      });
  if (host) evict = (docId) => host.registry.evict(docId);
  const serve = (ws: WebSocket, docId: string, userId: string | undefined) => (pool ? pool.connect(ws, docId, userId) : host!.connect(ws, docId, userId));
  // Frames above 4x the limit are cut by ws itself; between 1x and 4x the
  // client still gets a readable error frame.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes * 4 });
  openConnections = () => wss.clients.size;
  const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  // Above 2^31 - 1 ms setInterval fires every millisecond instead, and every live client would be cut.
  if (!(pingIntervalMs === Infinity || (Number.isSafeInteger(pingIntervalMs) && pingIntervalMs > 0 && pingIntervalMs <= 2 ** 31 - 1))) {
    throw new TypeError(`createSyncServer: pingIntervalMs must be a positive whole number of ms up to 2147483647 (or Infinity), got ${String(options.pingIntervalMs)}`);
  }
  const liveness = new SocketLiveness(wss.clients, pingIntervalMs, (_ws, silentMs) =>
    logger.info({ silentMs }, `closed a connection silent for over ${silentMs} ms (no frame, no answer to pings): its client is gone or its network is`),
  );
  const httpServers = new Set<Server>();
  const ownServers = new Set<Server>();

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (options.path && url.pathname !== options.path) return;
    const docId = url.searchParams.get('doc') ?? '';
    const upgrade = (onSocket: (ws: WebSocket) => void) =>
      wss.handleUpgrade(request, socket, head, (ws) => {
        serverMetrics?.connected();
        liveness.watch(ws);
        onSocket(ws);
      });
    const refuse = (code: string, message: string, closeCode: number) =>
      upgrade((ws) => {
        serverMetrics?.refused(code);
        logger.info({ docId: docId.slice(0, 200), code }, `connection refused: ${message}`);
        ws.send(encodeMessage({ type: 'error', code, message, seq: 0, fatal: true }));
        ws.close(closeCode, code);
      });
    if (!isValidDocId(docId)) return refuse('invalid_doc_id', `docId "${docId.slice(0, 200)}" is not valid — ${ID_RULE}`, CLOSE.protocolError);
    if (!options.authorize && !placement) return upgrade((ws) => serve(ws, docId, undefined));
    // Authorize (and find the document's node) before completing the
    // upgrade: the client cannot send a frame before it gets the 101, so its
    // hello cannot arrive while no Session listens (ws drops messages nobody
    // listens for). Until ws takes the socket over, a reset must not become
    // an uncaught 'error'.
    const ignore = () => {};
    socket.on('error', ignore);
    void admit(request, docId)
      .finally(() => socket.off('error', ignore))
      .then((admission) => {
        if (socket.destroyed) return;
        if (admission.kind === 'refuse') return refuse(admission.code, admission.message, admission.closeCode);
        if (admission.kind === 'session') return upgrade((ws) => serve(ws, docId, admission.userId));
        const upstreamUrl = new URL(request.url ?? '/', admission.address).href;
        logger.debug({ docId, upstream: upstreamUrl }, 'relaying the connection to the node that coordinates the document');
        upgrade((ws) => relaySocket(ws, { upstreamUrl, headers: relayHeaders(request), logger }));
      });
  };

  type Admission =
    | { kind: 'session'; userId: string | undefined }
    | { kind: 'relay'; address: string }
    | { kind: 'refuse'; code: string; message: string; closeCode: number };

  const admit = async (request: IncomingMessage, docId: string): Promise<Admission> => {
    let userId: string | undefined;
    if (options.authorize) {
      let user: { userId: string } | null | false = null;
      let reason = '';
      try {
        user = await options.authorize({ request, docId });
      } catch (error) {
        reason = `: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (!user) return { kind: 'refuse', code: 'unauthorized', message: `not allowed to open document "${docId}"${reason} — check the credentials the client sends`, closeCode: CLOSE.unauthorized };
      userId = user.userId;
    }
    if (!placement) return { kind: 'session', userId };
    try {
      if (!self.address) throw new QuireError('document_unavailable', 'this node does not know the URL other nodes reach it at — pass cluster.advertiseUrl (needed with attach())');
      const where = await placement.locate(docId);
      if (where.kind === 'here') return { kind: 'session', userId };
      // One hop only: a node that was sent this client but does not hold the document sends it back to start over.
      if (request.headers[RELAYED_HEADER]) {
        return { kind: 'refuse', code: 'document_moved', message: `document "${docId}" moved to node ${where.nodeId} while this client was being sent here — reconnect`, closeCode: CLOSE.serverError };
      }
      return { kind: 'relay', address: where.address };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const message = `could not find the server node that coordinates document "${docId}": ${error instanceof Error ? error.message : String(error)}`;
      logger.warn({ docId, err: error }, message);
      return { kind: 'refuse', code: typeof code === 'string' ? code : 'document_unavailable', message, closeCode: CLOSE.serverError };
    }
  };

  // Server-side calls run where the document is coordinated.
  const coordinatedHere = async (docId: string): Promise<void> => {
    const where = await placement?.locate(docId);
    if (where?.kind === 'elsewhere') throw new QuireError('document_moved', `document "${docId}" is coordinated by server node ${where.nodeId} (${where.address}) — call this there`);
  };

  let closing: Promise<void> | undefined;
  const documents = () => (pool ? pool.documents : host!.documents);
  const health = (): Health => ({ ok: !closing, ...(closing && { draining: true as const }), documents: documents(), connections: wss.clients.size });

  // See `close()`: connections stay open while their documents drain, so clients hear their last commits made durable.
  const drain = async (): Promise<void> => {
    // A server that never listened (its port was taken) and served nothing has nothing to report.
    const served = [...httpServers].some((s) => s.listening) || documents() > 0 || wss.clients.size > 0;
    const info: Logger['info'] = served ? logger.info.bind(logger) : () => {};
    for (const server of httpServers) server.off('upgrade', onUpgrade);
    const listenersClosed = [...ownServers].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const left = () => documents() + (pool ? pool.draining : host!.draining);
    const total = left();
    const started = Date.now();
    info({ documents: total, connections: wss.clients.size }, `draining: stopped taking connections; closing ${total} document(s) once their queued mutations are durable, then ${wss.clients.size} connection(s)`);
    const progress = setInterval(() => info({ documents: left(), of: total }, `draining: ${left()} of ${total} document(s) left`), DRAIN_PROGRESS_MS);
    progress.unref();
    let closed: number;
    try {
      closed = await (pool ? pool.close() : host!.close());
    } finally {
      clearInterval(progress);
    }
    liveness.stop();
    const connections = wss.clients.size;
    for (const ws of wss.clients) ws.close(CLOSE.restart, 'server restarting');
    await placement?.close();
    s3?.close();
    wss.close();
    // A client that does not answer the close frame is not waited for long.
    await closedWithin([...wss.clients], CLOSE_HANDSHAKE_MS);
    for (const ws of wss.clients) ws.terminate();
    await Promise.all(listenersClosed);
    const ms = Date.now() - started;
    info({ documents: closed, connections, ms }, `drained in ${ms} ms: ${closed} document(s) closed; every connection closed with 1012 (service restart: clients reconnect), the last ${connections} once their documents closed`);
  };

  /** The metrics' text for a scrape; a failure is logged and answered with a 500. */
  const scrape = (registry: Registry, res: ServerResponse) =>
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, 'could not collect the metrics for a scrape');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('could not collect the metrics; the server log says why\n');
      },
    );

  return {
    health,
    metricsRegistry,
    attach(server) {
      httpServers.add(server);
      server.on('upgrade', onUpgrade);
      liveness.start();
    },
    async listen(port = 0, host = '127.0.0.1') {
      // Every worker has loaded the app, or the error that stopped one is thrown here.
      await pool?.ready();
      const server = createServer((req, res) => {
        const { pathname } = new URL(req.url ?? '/', 'http://localhost');
        if (pathname === HEALTH_PATH) {
          const now = health();
          res.writeHead(now.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(now));
          return;
        }
        if (pathname === METRICS_PATH && metricsRegistry) {
          void scrape(metricsRegistry, res);
          return;
        }
        res.writeHead(426, { 'content-type': 'text/plain' }).end('Quire sync endpoint: connect with a WebSocket\n');
      });
      ownServers.add(server);
      this.attach(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      const url = `ws://${host.includes(':') ? `[${host}]` : host}:${actual}`;
      if (!self.address) self.address = url;
      // The URL is followed by a space: scripts find it in JSON lines with /listening on (\S+)/.
      const http = url.replace(/^ws/, 'http');
      logger.info({ url, dataDir: options.dataDir }, `listening on ${url} (health checks: GET ${http}${HEALTH_PATH}${metricsRegistry ? `, metrics: GET ${http}${METRICS_PATH}` : ''})`);
      return { port: actual, url };
    },
    async mutate(docId, name, args, mutateOptions) {
      await coordinatedHere(docId);
      const argsJson = encodeArgs(args);
      const userId = mutateOptions?.userId;
      if (pool) return (await pool.call(docId, { method: 'mutate', docId, name, argsJson, userId })) as { lsn: number };
      return host!.mutate(docId, name, argsJson, userId);
    },
    async snapshot(docId) {
      await coordinatedHere(docId);
      if (pool) return (await pool.call(docId, { method: 'snapshot', docId })) as Awaited<ReturnType<DocumentHost['snapshot']>>;
      return host!.snapshot(docId);
    },
    close() {
      closing ??= drain();
      return closing;
    },
  } satisfies SyncServer<R>;
}


/** The worker pool `options.workers` asks for, or a TypeError that says which option it cannot work with. */
function startWorkers(
  options: SyncServerOptions<Reducers>,
  workers: WorkerOptions,
  shared: { maxMessageBytes: number; limits: ServerLimits; logger: Logger; metrics: boolean },
): WorkerPool {
  const count = workers.count ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1) throw new TypeError(`createSyncServer: workers.count must be a whole number of at least 1, got ${String(workers.count)}`);
  // Not yet: each of these would need its own part in the workers (a log per worker, leases held by the main thread).
  for (const option of ['s3', 'cluster', 'commitLog', 'beforeCheckpoint'] as const) {
    if (options[option] !== undefined) throw new TypeError(`createSyncServer: \`workers\` does not work together with \`${option}\` yet — leave out one of them`);
  }
  const appModule = resolve(workers.module instanceof URL || workers.module.startsWith('file:') ? fileURLToPath(workers.module) : workers.module);
  return new WorkerPool({
    size: count,
    logger: shared.logger,
    config: {
      appModule,
      appVersion: appVersionOf(options.reducers),
      reducerNames: Object.keys(options.reducers.definitions).sort(),
      dataDir: options.dataDir,
      logLevel: shared.logger.level,
      maxMessageBytes: shared.maxMessageBytes,
      limits: shared.limits,
      metrics: shared.metrics,
      ...(options.idleCloseMs !== undefined && { idleCloseMs: options.idleCloseMs }),
      ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }),
      ...(options.checkpointPages !== undefined && { checkpointPages: options.checkpointPages }),
      ...(options.pageCacheKib !== undefined && { pageCacheKib: options.pageCacheKib }),
      ...(options.compaction !== undefined && { compaction: options.compaction }),
    },
  });
}

/** The main thread's metrics in `registry`, or a TypeError that says why they cannot go there. */
function serverMetricsIn(registry: Registry, openConnections: () => number): ServerMetrics {
  if (typeof (registry as Partial<Registry> | null)?.registerMetric !== 'function') {
    throw new TypeError(`createSyncServer: options.metrics must be a prom-client Registry, or false for no metrics — got ${String(registry)}`);
  }
  if (registry.getSingleMetric('quire_connections_open')) {
    throw new TypeError('createSyncServer: options.metrics already holds the metrics of another sync server — give each server a Registry of its own (prom-client\'s Registry.merge serves several as one)');
  }
  return new ServerMetrics(registry, openConnections);
}
