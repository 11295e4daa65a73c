import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WebSocket } from 'ws';
import { QuireError } from '@quire/core';
import { encodeMessage } from '@quire/core/protocol';
import type { Logger } from '../logger.js';
import { dropVolume } from '../coordinator/volume-restore.js';
import { CLOSE } from '../session.js';
import { documentSlot } from './document-slot.js';
import { relayLogLine } from './worker-log.js';
import type { FromWorker, MetricsJson, SocketCommand, ToWorker, WorkerCall, WorkerConfig } from './worker-messages.js';

export interface WorkerPoolOptions {
  /** How many workers; each document lives on one of them. */
  size: number;
  /** What each worker starts with, but its index. */
  config: Omit<WorkerConfig, 'index'>;
  logger: Logger;
}

// Backlog changes smaller than this are not worth a message; 0 always is.
const BUFFERED_STEP = 64 * 1024;
// While a socket is backlogged, how often its worker hears how much it holds.
const BACKLOG_POLL_MS = 20;
// A worker that fails before it is ready (its app module throws, say) is started again after this, doubling.
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

interface Slot {
  index: number;
  worker: Worker | undefined;
  ready: boolean;
  /** Failures in a row before ready (for the retry delay). */
  failures: number;
  documents: number;
  /** Documents its stop still waits for (as it last reported). */
  draining: number;
  conns: Set<number>;
  retry: ReturnType<typeof setTimeout> | undefined;
  /** The uncaught error that ended the worker, if any (its 'exit' follows). */
  error: unknown;
  /** Messages posted to this worker so far. */
  posted: number;
  /**
   * Documents the worker may have open, each with the number of the last
   * message that could have opened it: if the worker dies, they rebuild
   * from their logs (see `dropVolume`).
   */
  suspects: Map<string, number>;
  /** The worker's last answer to a metrics request. */
  metrics: MetricsJson | undefined;
}

interface Conn {
  ws: WebSocket;
  slot: Slot;
  /** The backlog the worker last heard of. */
  reported: number;
}

/**
 * The sync server's document workers, seen from the main thread, which
 * keeps every socket: each document lives on one worker (by a hash of its
 * id), its connections' frames go there, and what its sessions send comes
 * back as commands (a broadcast as one frame and its list of connections).
 * A worker that crashes is logged, its connections are closed with a code
 * clients reconnect on, and a new worker takes its place.
 */
export class WorkerPool {
  private readonly slots: Slot[];
  private readonly conns = new Map<number, Conn>();
  private readonly calls = new Map<number, { slot: Slot; call: WorkerCall; resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly backlogged = new Set<number>();
  private readonly metricRequests = new Map<number, () => void>();
  /** The counters and histograms of workers that crashed, as they last answered: sums must not go back when a worker starts afresh. */
  private readonly retiredMetrics: MetricsJson[] = [];
  private backlogTimer: ReturnType<typeof setInterval> | undefined;
  private nextConn = 1;
  private nextCall = 1;
  private stopping = false;
  private readonly started: Promise<void>;
  private startedWaiters: Array<{ slot: Slot; resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: options.size }, (_, index) => ({
      index,
      worker: undefined,
      ready: false,
      failures: 0,
      documents: 0,
      draining: 0,
      conns: new Set<number>(),
      retry: undefined,
      error: undefined,
      posted: 0,
      suspects: new Map<string, number>(),
      metrics: undefined,
    }));
    this.started = Promise.all(
      this.slots.map((slot) => new Promise<void>((resolve, reject) => this.startedWaiters.push({ slot, resolve, reject }))),
    ).then(() => undefined);
    this.started.catch(() => {});
    for (const slot of this.slots) this.spawn(slot);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Resolves once every worker loaded the app; rejects with the first that could not. */
  ready(): Promise<void> {
    return this.started;
  }

  /** Documents open in all workers (as they last reported). */
  get documents(): number {
    return this.slots.reduce((sum, slot) => sum + slot.documents, 0);
  }

  /** Documents `close` still waits for, in all workers (as they last reported). */
  get draining(): number {
    return this.slots.reduce((sum, slot) => sum + slot.draining, 0);
  }

  /** Hands an authorized client's socket to the worker of its document. */
  connect(ws: WebSocket, docId: string, userId: string | undefined): void {
    const slot = this.slots[documentSlot(docId, this.slots.length)]!;
    const worker = slot.worker;
    if (this.stopping) {
      ws.send(encodeMessage({ type: 'error', code: 'server_closed', message: 'the sync server is shutting down — reconnect', seq: 0, fatal: true }));
      ws.close(CLOSE.restart, 'server_closed');
      return;
    }
    if (!worker) {
      ws.send(encodeMessage({ type: 'error', code: 'server_error', message: `the worker for document "${docId}" is restarting — reconnect`, seq: 0, fatal: true }));
      ws.close(CLOSE.serverError, 'server_error');
      return;
    }
    const id = this.nextConn++;
    const conn: Conn = { ws, slot, reported: 0 };
    this.conns.set(id, conn);
    slot.conns.add(id);
    this.post(slot, { type: 'connect', conn: id, docId, userId });
    slot.suspects.set(docId, slot.posted);
    ws.on('message', (data: Buffer | Buffer[] | ArrayBuffer, isBinary) => {
      if (this.conns.get(id) !== conn) return;
      const frame = ownCopy(data instanceof ArrayBuffer ? new Uint8Array(data) : Array.isArray(data) ? Buffer.concat(data) : data);
      this.post(slot, { type: 'frame', conn: id, data: frame, binary: isBinary }, [frame]);
    });
    ws.on('close', (code, reason) => {
      if (this.conns.get(id) !== conn) return;
      this.forget(id, conn);
      this.post(slot, { type: 'closed', conn: id, code, reason: reason.toString() });
    });
    // A failed socket closes too ('close' follows).
    ws.on('error', () => {});
  }

  /** Runs a server-side call on the document's worker. */
  call(docId: string, call: WorkerCall): Promise<unknown> {
    const slot = this.slots[documentSlot(docId, this.slots.length)]!;
    if (!slot.worker || this.stopping) return Promise.reject(new QuireError('server_error', `the worker for document "${docId}" is not running — try again`));
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { slot, call, resolve, reject });
      this.post(slot, { type: 'call', id, call });
      slot.suspects.set(docId, slot.posted);
    });
  }

  /**
   * Every worker's metrics, to be added up (`AggregatorRegistry.aggregate`).
   * A worker that has not answered within `timeoutMs` (a long reducer holds
   * its thread, or it is restarting) is there with its previous answer, if
   * any, and counted in `stale`.
   */
  async metrics(timeoutMs: number): Promise<{ metrics: MetricsJson[]; stale: number }> {
    const answers = await Promise.all(this.slots.map((slot) => this.askMetrics(slot, timeoutMs)));
    const metrics = [...this.retiredMetrics];
    for (const slot of this.slots) if (slot.metrics) metrics.push(slot.metrics);
    return { metrics, stale: answers.filter((fresh) => !fresh).length };
  }

  /** Resolves true once the worker answered (`slot.metrics` is its answer), false after `timeoutMs`. */
  private askMetrics(slot: Slot, timeoutMs: number): Promise<boolean> {
    if (!slot.worker || !slot.ready) return Promise.resolve(false);
    const id = this.nextCall++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.metricRequests.delete(id);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.metricRequests.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
      this.post(slot, { type: 'metrics', id });
    });
  }

  /** Every worker closes its documents (in-flight commits finish), then exits; resolves to how many documents they closed. */
  async close(): Promise<number> {
    this.stopping = true;
    clearInterval(this.backlogTimer);
    let closed = 0;
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.retry);
        const worker = slot.worker;
        if (!worker) return;
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.on('message', (message: FromWorker) => {
          if (message.type !== 'stopped') return;
          closed += message.documents;
          void worker.terminate();
        });
        if (slot.ready) worker.postMessage({ type: 'stop' } satisfies ToWorker);
        else void worker.terminate();
        await exited;
      }),
    );
    return closed;
  }

  private spawn(slot: Slot): void {
    slot.retry = undefined;
    slot.ready = false;
    slot.error = undefined;
    slot.posted = 0;
    const logger = this.options.logger.child({ worker: slot.index });
    const worker = new Worker(workerEntry(), { workerData: { ...this.options.config, index: slot.index } satisfies WorkerConfig, ...workerArgv() });
    slot.worker = worker;
    worker.on('message', (message: FromWorker) => this.receive(slot, logger, message));
    worker.on('error', (error) => {
      slot.error = error;
    });
    worker.on('exit', (code) => this.exited(slot, worker, logger, code));
  }

  private receive(slot: Slot, logger: Logger, message: FromWorker): void {
    switch (message.type) {
      case 'commands':
        this.apply(slot, message.commands);
        return;
      case 'log':
        relayLogLine(logger, message.line);
        return;
      case 'reply': {
        const call = this.calls.get(message.id);
        if (!call) return;
        this.calls.delete(message.id);
        if (!message.error) return call.resolve(message.value);
        const { code, message: text } = message.error;
        call.reject(code ? new QuireError(code as never, text) : new Error(text));
        return;
      }
      case 'documents':
        slot.documents = message.count;
        slot.draining = message.draining;
        return;
      case 'metrics': {
        // A late answer is still the freshest there is.
        slot.metrics = message.metrics;
        const answered = this.metricRequests.get(message.id);
        this.metricRequests.delete(message.id);
        answered?.();
        return;
      }
      case 'documentClosed':
        // Unless a connection for it was sent after the close began (and reopens it).
        if ((slot.suspects.get(message.docId) ?? Infinity) <= message.seen) slot.suspects.delete(message.docId);
        return;
      case 'ready':
        slot.ready = true;
        slot.failures = 0;
        this.startedWaiters.find((w) => w.slot === slot)?.resolve();
        logger.debug({ appVersion: message.appVersion }, 'document worker ready');
        return;
      case 'stopped':
        return;
    }
  }

  /** Carries out, in order, what the worker's sessions did to their sockets. */
  private apply(slot: Slot, commands: SocketCommand[]): void {
    for (const command of commands) {
      if (command.kind === 'send') {
        const bytes = Buffer.from(command.frame);
        for (const id of command.to) {
          const conn = this.conns.get(id);
          if (!conn || conn.slot !== slot) continue;
          conn.ws.send(bytes);
          this.reportBacklog(id, conn);
        }
        continue;
      }
      const conn = this.conns.get(command.conn);
      if (!conn || conn.slot !== slot) continue;
      if (command.kind === 'close') conn.ws.close(command.code, command.reason);
      else if (command.kind === 'terminate') conn.ws.terminate();
      else if (command.kind === 'pause') conn.ws.pause();
      else conn.ws.resume();
    }
  }

  /** Tells the worker how much a socket holds once it changed enough to matter, and keeps watching while it holds any. */
  private reportBacklog(id: number, conn: Conn): void {
    const bytes = conn.ws.bufferedAmount;
    if (bytes === conn.reported || (bytes > 0 && Math.abs(bytes - conn.reported) < BUFFERED_STEP)) return;
    conn.reported = bytes;
    this.post(conn.slot, { type: 'buffered', conn: id, bytes });
    if (bytes > 0) this.backlogged.add(id);
    else this.backlogged.delete(id);
    if (this.backlogged.size > 0 && !this.backlogTimer) {
      this.backlogTimer = setInterval(() => {
        for (const id of this.backlogged) {
          const conn = this.conns.get(id);
          if (conn) this.reportBacklog(id, conn);
          else this.backlogged.delete(id);
        }
        if (this.backlogged.size === 0) {
          clearInterval(this.backlogTimer);
          this.backlogTimer = undefined;
        }
      }, BACKLOG_POLL_MS);
      this.backlogTimer.unref();
    }
  }

  private exited(slot: Slot, worker: Worker, logger: Logger, code: number): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.documents = 0;
    if (slot.metrics) this.retiredMetrics.push(slot.metrics.filter((metric) => String(metric.type) === 'counter' || String(metric.type) === 'histogram'));
    slot.metrics = undefined;
    slot.draining = 0;
    const wasReady = slot.ready;
    slot.ready = false;
    this.failCalls(slot);
    if (this.stopping) return;
    const error = slot.error ?? new Error(`the worker exited with code ${code}`);
    // Its sockets are the main thread's: close them with a code clients reconnect on.
    const closed = slot.conns.size;
    for (const id of slot.conns) {
      const conn = this.conns.get(id)!;
      this.forget(id, conn);
      conn.ws.send(encodeMessage({ type: 'error', code: 'server_error', message: 'the server worker that held this document crashed — reconnect', seq: 0, fatal: true }));
      conn.ws.close(CLOSE.serverError, 'server_error');
    }
    // Its SQLite connections were closed for it in no set order: a close may
    // have checkpointed a commit the log never made durable into the file.
    const rebuilt = [...slot.suspects.keys()];
    for (const docId of rebuilt) dropVolume(join(this.options.config.dataDir, docId));
    slot.suspects.clear();
    if (wasReady) {
      logger.error(
        { err: error, exitCode: code, connectionsClosed: closed, documents: rebuilt.length },
        `document worker ${slot.index} crashed; its ${closed} connection(s) were closed (clients reconnect) and a new worker starts; its ${rebuilt.length} document(s) reopen from their logs`,
      );
      this.spawn(slot);
      return;
    }
    slot.failures++;
    const waiter = this.startedWaiters.find((w) => w.slot === slot);
    waiter?.reject(error instanceof Error ? error : new Error(String(error)));
    const delay = Math.min(FIRST_RETRY_MS * 2 ** (slot.failures - 1), MAX_RETRY_MS);
    logger.error({ err: error, exitCode: code, failures: slot.failures, retryInMs: delay }, `document worker ${slot.index} failed to start; trying again in ${delay} ms`);
    slot.retry = setTimeout(() => this.spawn(slot), delay);
    slot.retry.unref();
  }

  /** Server-side calls the worker will never answer: it ended before they finished. */
  private failCalls(slot: Slot): void {
    for (const [id, pending] of this.calls) {
      if (pending.slot !== slot) continue;
      this.calls.delete(id);
      const { call } = pending;
      pending.reject(
        call.method === 'mutate'
          ? new QuireError('outcome_unknown', `the server worker that held document "${call.docId}" ended before this mutation was durable: its commit may or may not have reached the log — read the document before calling ${call.name} again`)
          : new QuireError('server_error', `the server worker that held document "${call.docId}" ended before the call finished — try again`),
      );
    }
  }

  private forget(id: number, conn: Conn): void {
    this.conns.delete(id);
    conn.slot.conns.delete(id);
    this.backlogged.delete(id);
  }

  private post(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!slot.worker) return;
    slot.worker.postMessage(message, transfer);
    slot.posted++;
  }
}

/**
 * The worker's entry: the built JavaScript. From the repository's TypeScript
 * sources (tests), the build of this package too: a worker thread on Node 20
 * cannot load TypeScript through the parent's loader.
 */
function workerEntry(): URL {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? '../../dist/workers/document-worker.js' : './document-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(entry))) {
    throw new QuireError('worker_failed', `the document worker's entry ${fileURLToPath(entry)} is missing — build @quire/server (pnpm turbo run build)`);
  }
  return entry;
}

/** From the sources, the worker runs the build: without the parent's source condition and loader. */
function workerArgv(): { execArgv?: string[] } {
  return import.meta.url.endsWith('.ts') ? { execArgv: [] } : {};
}

/** A copy in an ArrayBuffer of its own, to transfer: ws may hand out a view into a larger read buffer. */
function ownCopy(view: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy.buffer;
}
