import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { loadReducers } from '../cli/load-reducers.js';
import { DocumentHost } from '../document-host.js';
import type { FromWorker, ToWorker, WorkerCall, WorkerConfig } from './worker-messages.js';
import { SocketOutbox } from './socket-outbox.js';
import { WorkerSocket } from './worker-socket.js';
import { workerLogger } from './worker-log.js';
import { appVersionOf } from '@quire/core/internal';

/**
 * The entry of a document worker (see worker-pool.ts): it loads the app
 * from its module and serves the documents the main thread sends it, with
 * the same `DocumentHost` the server runs in one thread.
 */

const port = parentPort!;
const config = workerData as WorkerConfig;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const logger = workerLogger(config.logLevel, (line) => post({ type: 'log', line }));
// Messages received so far: the main thread learns which documents closed after which connections.
let received = 0;
const reducers = await loadReducers(config.appModule);
if (appVersionOf(reducers) !== config.appVersion) {
  throw new TypeError(
    `createSyncServer: workers.module ${config.appModule} exports app version ${appVersionOf(reducers)}, but \`reducers\` is app version ${config.appVersion} — make the module export the reducers you pass`,
  );
}
const names = Object.keys(reducers.definitions).sort();
if (names.join('\n') !== config.reducerNames.join('\n')) {
  const missing = config.reducerNames.filter((name) => !names.includes(name));
  const extra = names.filter((name) => !config.reducerNames.includes(name));
  throw new TypeError(
    `createSyncServer: workers.module ${config.appModule} defines other reducers than \`reducers\` (${[...missing.map((n) => `missing "${n}"`), ...extra.map((n) => `extra "${n}"`)].join(', ')}) — make the module export the reducers you pass`,
  );
}
// The worker's own: the main thread asks for it at each scrape and adds the workers' up.
const metricsRegistry = config.metrics ? new Registry() : undefined;
const host = new DocumentHost({
  reducers,
  ...(metricsRegistry && { metricsRegistry }),
  dataDir: config.dataDir,
  logger,
  maxMessageBytes: config.maxMessageBytes,
  limits: config.limits,
  ...(config.idleCloseMs !== undefined && { idleCloseMs: config.idleCloseMs }),
  ...(config.maxBatch !== undefined && { maxBatch: config.maxBatch }),
  ...(config.checkpointPages !== undefined && { checkpointPages: config.checkpointPages }),
  ...(config.pageCacheKib !== undefined && { pageCacheKib: config.pageCacheKib }),
  ...(config.compaction !== undefined && { compaction: config.compaction }),
  onIdleClose: (docId, closed) => {
    const seen = received;
    closed.then(() => post({ type: 'documentClosed', docId, seen }), () => {});
  },
});
const outbox = new SocketOutbox((commands, transfer) => post({ type: 'commands', commands }, transfer));
const sockets = new Map<number, WorkerSocket>();

// The main thread's health figure (and, while stopping, its progress); reported when it changes, not asked for.
let documents = 0;
let draining = 0;
const reportDocuments = setInterval(() => {
  if (host.documents === documents && host.draining === draining) return;
  documents = host.documents;
  draining = host.draining;
  post({ type: 'documents', count: documents, draining });
}, 200);
reportDocuments.unref();

async function call(c: WorkerCall): Promise<unknown> {
  if (c.method === 'mutate') return host.mutate(c.docId, c.name, c.argsJson, c.userId);
  const snapshot = await host.snapshot(c.docId);
  return snapshot;
}

port.on('message', (message: ToWorker) => {
  received++;
  switch (message.type) {
    case 'frame':
      sockets.get(message.conn)?.receive(message.data, message.binary);
      return;
    case 'connect': {
      const socket = new WorkerSocket(message.conn, outbox);
      sockets.set(message.conn, socket);
      host.connect(socket, message.docId, message.userId);
      return;
    }
    case 'closed':
      sockets.get(message.conn)?.closedBy(message.code, message.reason);
      sockets.delete(message.conn);
      return;
    case 'buffered': {
      const socket = sockets.get(message.conn);
      if (socket) socket.bufferedAmount = message.bytes;
      return;
    }
    case 'call':
      call(message.call).then(
        (value) => post({ type: 'reply', id: message.id, value }, transferablePages(value)),
        (error: unknown) => {
          const code = (error as { code?: unknown }).code;
          post({ type: 'reply', id: message.id, error: { message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' && { code }) } });
        },
      );
      return;
    case 'metrics':
      // Unanswered, the main thread shows this worker's previous figures.
      (metricsRegistry?.getMetricsAsJSON() ?? Promise.resolve([])).then(
        (metrics) => post({ type: 'metrics', id: message.id, metrics }),
        (error: unknown) => logger.warn({ err: error }, 'could not collect the metrics of this worker'),
      );
      return;
    case 'stop':
      // The interval goes on reporting: the main thread logs how many documents are left to drain.
      void host.close().then((closed) => {
        clearInterval(reportDocuments);
        post({ type: 'stopped', documents: closed });
      });
      return;
  }
});

post({ type: 'ready', appVersion: appVersionOf(reducers) });

/** A snapshot's page images go over without a copy. */
function transferablePages(value: unknown): ArrayBuffer[] {
  const pages = (value as { pages?: Array<{ data: Uint8Array }> } | undefined)?.pages;
  if (!Array.isArray(pages)) return [];
  return pages.map((page) => {
    const own = new Uint8Array(page.data);
    page.data = own;
    return own.buffer as ArrayBuffer;
  });
}
