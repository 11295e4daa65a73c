import type { Registry } from 'prom-client';
import type { ServerLimits } from '../limits.js';
import type { CompactionOptions } from '../coordinator/checkpoint-policy.js';

/**
 * Messages between the sync server's main thread (which owns every socket)
 * and its document workers (which own the documents). A connection is a
 * number the main thread gives it; frames travel as ArrayBuffers that are
 * transferred, not copied.
 */

/** What a worker starts with (its `workerData`): everything structured-cloneable. */
export interface WorkerConfig {
  /** This worker's index in the pool, for its logs. */
  index: number;
  /** The app's module: loaded with `loadReducers`. */
  appModule: string;
  /** The app version of the reducers the main thread was given: the module must export the same app. */
  appVersion: number;
  /** Its reducers' names, sorted: the module must define the same ones. */
  reducerNames: string[];
  dataDir: string;
  /** The main logger's level: lines below it are not sent at all. */
  logLevel: string;
  maxMessageBytes: number;
  limits: ServerLimits;
  /** Keep metrics (`HostMetrics`), for the main thread to gather. */
  metrics: boolean;
  idleCloseMs?: number;
  maxBatch?: number;
  checkpointPages?: number;
  pageCacheKib?: number;
  compaction?: CompactionOptions;
}

export type ToWorker =
  /** A client connected to `docId` (authorized as `userId`). */
  | { type: 'connect'; conn: number; docId: string; userId: string | undefined }
  /** A frame from the client. */
  | { type: 'frame'; conn: number; data: ArrayBuffer; binary: boolean }
  /** The socket closed (either side closed it, or it failed). */
  | { type: 'closed'; conn: number; code: number; reason: string }
  /** The bytes the socket holds for the client changed (for backpressure: `Session` reads `bufferedAmount`). */
  | { type: 'buffered'; conn: number; bytes: number }
  | { type: 'call'; id: number; call: WorkerCall }
  /** Answer `metrics` with the worker's metrics as they are now. */
  | { type: 'metrics'; id: number }
  /** Close every document and answer `stopped`. */
  | { type: 'stop' };

export type WorkerCall =
  | { method: 'mutate'; docId: string; name: string; argsJson: string; userId: string | undefined }
  | { method: 'snapshot'; docId: string };

/** One step of what the worker's sessions did to their sockets, in order. */
export type SocketCommand =
  /** The same frame to each of `to` (a broadcast is one frame for many connections). */
  | { kind: 'send'; frame: ArrayBuffer; to: number[] }
  | { kind: 'close'; conn: number; code: number; reason: string }
  | { kind: 'terminate'; conn: number }
  | { kind: 'pause'; conn: number }
  | { kind: 'resume'; conn: number };

export type FromWorker =
  /** The app loaded: the worker serves from here on. */
  | { type: 'ready'; appVersion: number }
  | { type: 'commands'; commands: SocketCommand[] }
  /** A pino JSON line, for the main thread's logger. */
  | { type: 'log'; line: string }
  | { type: 'reply'; id: number; value?: unknown; error?: { code?: string; message: string } }
  /**
   * An idle document closed cleanly. `seen`: how many messages the worker
   * had received when the close began (a connection sent after it reopens it).
   */
  | { type: 'documentClosed'; docId: string; seen: number }
  /** Documents open, and (while stopping) those the stop still waits for. */
  | { type: 'documents'; count: number; draining: number }
  /** The worker's metrics, answering a `metrics` request. */
  | { type: 'metrics'; id: number; metrics: MetricsJson }
  /** Every document closed: how many. */
  | { type: 'stopped'; documents: number };

/** A registry's metrics as `getMetricsAsJSON()` gives them: plain data, for `AggregatorRegistry.aggregate`. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
