import { Engine, type QueryStats } from '../engine/engine.js';
import type { ErrorListener, QueryListener } from '../engine/subscriptions.js';
import { QuireError } from '../errors.js';
import type { PageImage } from '../page/page.js';
import { ID_RULE, PROTOCOL_VERSION, encodePushFrames, isValidClientId, isValidDocId, type Rejection, type ServerMessage } from '../protocol/index.js';
import type { Reducers } from '../reducers/define-reducers.js';
import type { Row, SqlParams } from '../reducers/tx.js';
import type { ReplicaDb } from '../replica/replica-db.js';
import type { ReplicaStore } from '../store/replica-store.js';
import type { BackoffOptions } from './backoff.js';
import { Connection, type WebSocketConstructor } from './connection.js';
import type { MutateApi, MutationHandle } from './mutation-handle.js';
import type { ConnectionState, SyncStatus } from './sync-status.js';

export interface ClientOptions<R extends Reducers> {
  /** The sync server, e.g. `ws://localhost:8787`. */
  url: string;
  /** The document to open. Letters, digits, `-` and `_`, at most 128. */
  docId: string;
  /** The same reducers the server runs. */
  reducers: R;
  /** Stable identity of this replica. Default: a random id (or the stored one, with a `store`). */
  clientId?: string;
  /**
   * Keeps the replica and its pending mutations across restarts; the client
   * closes it. The browser client uses IndexedDB; in Node pass
   * `await FileStore.open(path)`. With `partial`, the pages it held (and
   * nothing more) come back warm. Default: memory only.
   */
  store?: ReplicaStore;
  /** Passed to reducers as `ctx.userId` for the optimistic apply. */
  userId?: string;
  /** Extra query parameters for the connection URL, e.g. an auth token. */
  params?: Record<string, string>;
  /** The WebSocket implementation. Default: the global one (the Node entry point uses `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delays. */
  reconnect?: BackoffOptions;
  /** Start disconnected; call `connect()` later. Default false. */
  offline?: boolean;
  /**
   * Fetch pages on demand instead of the whole document at connect: the
   * client costs what it reads. Reads of pages it lacks wait for them;
   * offline they fail with `offline_missing_pages` (see `hydrate()`).
   * Default false.
   */
  partial?: boolean;
  /** With `partial`: fetch the pages a scan will want next along with its misses. Default true. */
  prefetch?: boolean;
  /**
   * With `partial`: bytes of document pages to keep; the least recently used
   * go first. Page 1, interior b-tree pages and pages under pending changes
   * are never dropped. Default unbounded.
   */
  cacheSize?: number;
}

/** Progress of {@link QuireClient.hydrate}. */
export interface HydrateProgress {
  /** Pages held so far. */
  pages: number;
  /** Pages in the document. */
  total: number;
}

export interface QuireClient<R extends Reducers> {
  /** This replica's id. With stored state it is the stored id, known once `ready()` resolved. */
  readonly clientId: string;
  readonly docId: string;
  /** One method per reducer: applies it locally at once and sends it to the server. */
  readonly mutate: MutateApi<R>;
  /** Runs a read-only query against the local replica. */
  query<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Like `query`, and reports what it cost: pages SQLite read, pages fetched, round trips. */
  measureQuery<T extends Row = Row>(sql: string, params?: SqlParams): Promise<{ rows: T[]; stats: QueryStats }>;
  /** Calls `listener` with the rows now and whenever they change. Returns the unsubscribe function. */
  subscribe<T extends Row = Row>(sql: string, params: SqlParams | undefined, listener: QueryListener<T>, onError?: ErrorListener): () => void;
  status(): SyncStatus;
  /** Calls `listener` whenever `status()` changes. Returns the unsubscribe function. */
  subscribeStatus(listener: (status: SyncStatus) => void): () => void;
  /**
   * Resolves once the local replica is open: stored state is loaded and
   * local queries and mutations work. It does not wait for the server — a
   * new client is empty until then; see {@link QuireClient.synced}.
   */
  ready(): Promise<void>;
  /**
   * Resolves once this client has the server's state: it is connected, its
   * base has reached the LSN the server had when it welcomed this
   * connection, and no mutation of its own is pending (each was confirmed
   * or rejected). Local reads then match the server as of that LSN. Waits
   * through reconnects (including while offline); rejects when the client
   * is closed, or refused for good (`unauthorized`, `client_id_taken`).
   *
   * @example
   * const client = createClient({ url, docId, reducers });
   * await client.synced();
   * const rows = await client.query('SELECT * FROM todos'); // the server's rows
   */
  synced(): Promise<void>;
  /** Drops the sync connection on purpose; local mutations keep working and queue up. */
  disconnect(): void;
  /** Re-opens the sync connection after `disconnect()` or `offline: true`. */
  connect(): void;
  /**
   * Fetches every page the replica lacks, so the whole document can be read
   * offline. Resolves once the replica holds all of it.
   */
  hydrate(options?: { onProgress?: (progress: HydrateProgress) => void }): Promise<void>;
  /** Runs `fn` on the replica between engine operations (diagnostics and tests). */
  inspect<T>(fn: (replica: ReplicaDb) => T): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens a document: a local replica that applies mutations at once, kept in
 * sync with the server.
 *
 * @example
 * const client = createClient({ url: 'ws://localhost:8787', docId: 'groceries', reducers });
 * await client.mutate.addTodo({ id: crypto.randomUUID(), title: 'Milk' }).server;
 * const rows = await client.query('SELECT title FROM todos');
 */
export function createClient<R extends Reducers>(options: ClientOptions<R>): QuireClient<R> {
  if (!isValidDocId(options.docId)) {
    throw new QuireError('invalid_doc_id', `docId "${options.docId}" is not valid — ${ID_RULE}`);
  }
  if (options.clientId !== undefined && !isValidClientId(options.clientId)) {
    throw new QuireError('invalid_client_id', `clientId "${options.clientId}" is not valid — ${ID_RULE}`);
  }
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocketImpl) {
    throw new QuireError('no_websocket', 'no WebSocket implementation found — pass createClient({ WebSocket }) (in Node, import from "@quire/core" to get one)');
  }
  const partial = options.partial === true;
  const fetcher = new PageFetcher();
  const engine: Engine = new Engine({
    reducers: options.reducers,
    clientId: options.clientId ?? randomId(),
    userId: options.userId,
    store: options.store,
    prefetch: options.prefetch,
    cacheSize: options.partial ? options.cacheSize : undefined,
    onEvict: (pgnos: number[]) => {
      if (connection === 'connected') conn.send({ type: 'forget', pgnos: pgnos.map((pgno) => ({ pgno })) });
    },
    ...(partial ? { fetchPages: (pgnos: number[]): Promise<void> => pageConnection().then((c) => fetcher.fetch(pgnos, c)) } : {}),
  });
  const statusListeners = new Set<(status: SyncStatus) => void>();
  let connection: ConnectionState = 'offline';
  // Set while the client means to connect but has not started the socket yet
  // (a stored replica is still loading).
  let awaitingStart = false;
  const connectionWaiters = new Set<() => void>();
  const connectionChanged = () => {
    for (const wake of [...connectionWaiters]) wake();
  };
  /**
   * The connection to fetch pages over: the open one, or the one being
   * opened once it is; none when offline (the read fails at once, it never hangs).
   */
  const pageConnection = async (): Promise<Connection | undefined> => {
    while (connection !== 'connected') {
      if (closed || !(connection === 'connecting' || awaitingStart)) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          connectionWaiters.delete(wake);
          resolve();
        };
        connectionWaiters.add(wake);
      });
    }
    return conn;
  };
  let lastError: SyncStatus['lastError'];
  let offlineByChoice = options.offline === true;
  let sentSeq = 0;
  // The server's frame limit, from its welcome.
  let maxMessageBytes = 0;
  let flushScheduled = false;
  let snapshotPages: PageImage[] = [];
  let welcomeRejections: Rejection[] = [];
  // The LSN the replica will be at once every received update is applied
  // (the engine applies them asynchronously, in order).
  let streamLsn = 0;
  // The server's LSN at this connection's welcome, and whether the snapshot
  // or catch-up that follows it has been applied.
  let welcomeLsn = 0;
  let caughtUp = false;
  const syncWaiters = new Set<{ resolve(): void; reject(error: Error): void }>();
  const checkSynced = () => {
    if (syncWaiters.size === 0) return;
    let failure: Error | undefined;
    if (closed) failure = new QuireError('client_closed', 'the client was closed before it synced — create a new client');
    else if (connection === 'unauthorized') failure = new QuireError(lastError?.code ?? 'unauthorized', `the server refused this client for good: ${lastError?.message ?? 'unauthorized'}`);
    const done = connection === 'connected' && caughtUp && engine.lsn >= welcomeLsn && engine.pendingCount === 0;
    if (!failure && !done) return;
    for (const waiter of [...syncWaiters]) (failure ? waiter.reject(failure) : waiter.resolve());
    syncWaiters.clear();
  };

  // status() returns the same object until something changes (React's
  // useSyncExternalStore relies on that).
  let current: SyncStatus = { connection, pending: 0, lsn: 0, lastError, offlineByChoice };
  const status = () => current;
  const emit = () => {
    const error = engine.applyError ?? lastError ?? engine.storeError;
    const next = { connection, pending: engine.pendingCount, lsn: engine.lsn, lastError: plainError(error), offlineByChoice };
    const same = (Object.keys(next) as (keyof SyncStatus)[]).every((key) => next[key] === current[key]);
    if (!same) {
      current = next;
      for (const listener of [...statusListeners]) listener(current);
    }
    checkSynced();
  };
  engine.subscribeState(() => {
    emit();
    // A mutation became durable in the store: it may be sent now.
    scheduleFlush();
  });

  const flush = () => {
    flushScheduled = false;
    if (connection !== 'connected') return;
    const mutations = engine
      .sendable()
      .filter((m) => m.seq > sentSeq)
      .map(({ seq, name, argsJson }) => ({ seq, name, args: argsJson }));
    if (mutations.length === 0) return;
    const { frames, oversized } = encodePushFrames(mutations, maxMessageBytes);
    for (const frame of frames) if (!conn.send(frame)) return;
    sentSeq = oversized ? oversized.seq - 1 : mutations[mutations.length - 1]!.seq;
    if (oversized) {
      // Sending it would get the connection closed; later calls wait behind it.
      lastError = {
        code: 'mutation_too_large',
        message: `mutation ${oversized.seq} (${oversized.name}) is larger than the server's limit of ${maxMessageBytes} bytes — raise maxMessageBytes on the server, or store large values outside the document`,
      };
      emit();
    }
  };
  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    queueMicrotask(flush);
  };

  const onMessage = (message: ServerMessage) => {
    switch (message.type) {
      case 'welcome':
        connection = 'connected';
        lastError = undefined;
        conn.handshakeDone();
        connectionChanged();
        sentSeq = 0;
        maxMessageBytes = message.maxMessageBytes;
        welcomeLsn = message.lsn;
        // A snapshot or catch-up commit follows unless the client is current.
        caughtUp = message.lsn === streamLsn;
        // Settled with the snapshot or catch-up that follows, or right away
        // when the client is already current.
        welcomeRejections = message.rejections.filter((r) => r.clientId === engine.clientId);
        if (message.lsn === streamLsn && welcomeRejections.length > 0) {
          void engine.settleRejections(welcomeRejections);
          welcomeRejections = [];
        }
        emit();
        scheduleFlush();
        // Reads that failed offline for want of pages can fetch them now.
        if (partial) engine.resume();
        return;
      case 'pages': {
        const request = fetcher.take(message.id);
        if (request) engine.applyPages(message.lsn, message.pageCount, message.pages).then(request.resolve, request.reject);
        return;
      }
      case 'snapshot':
        snapshotPages.push(...message.pages);
        if (!message.done) return;
        streamLsn = message.lsn;
        void engine.applyServerUpdate({ kind: 'snapshot', lsn: message.lsn, pageCount: message.pageCount, pages: snapshotPages }, welcomeRejections).then(() => {
          caughtUp = true;
          emit();
        });
        snapshotPages = [];
        welcomeRejections = [];
        return;
      case 'commit': {
        if (message.baseLsn !== streamLsn && message.lsn <= streamLsn) return;
        if (message.baseLsn !== streamLsn) {
          // A gap in the commit stream: get a fresh state.
          conn.restart();
          return;
        }
        streamLsn = message.lsn;
        const rejections = [...welcomeRejections, ...message.rejections.filter((r) => r.clientId === engine.clientId)];
        welcomeRejections = [];
        void engine
          .applyServerUpdate({ kind: 'commit', lsn: message.lsn, pageCount: message.pageCount, pages: message.pages, forgotten: message.forgotten.map((p) => p.pgno) }, rejections)
          .then(() => {
            if (message.lsn >= welcomeLsn) caughtUp = true;
            emit();
          });
        return;
      }
      case 'error':
        lastError = { code: message.code, message: message.message };
        emit();
        // A refused push (e.g. a seq gap) is resent from the oldest pending mutation.
        if (message.seq > 0) conn.restart();
        return;
    }
  };

  const url = connectionUrl(options.url, options.docId, options.params);
  const conn: Connection = new Connection(
    { url, WebSocket: WebSocketImpl, ...options.reconnect },
    {
      onOpen: () => {
        snapshotPages = [];
        return { type: 'hello', protocolVersion: PROTOCOL_VERSION, clientId: engine.clientId, lastLsn: streamLsn, fromSeq: engine.lowestPendingSeq(), partial, held: partial ? engine.heldPages().map((pgno) => ({ pgno })) : [] };
      },
      onMessage,
      onState: (state, error) => {
        if (state === 'connected') return;
        fetcher.failAll();
        connection = state;
        if (error) lastError = error;
        connectionChanged();
        emit();
      },
    },
  );

  const mutate = Object.fromEntries(
    Object.keys(options.reducers.definitions).map((name) => [
      name,
      (args?: unknown): MutationHandle => {
        const handle = engine.mutate(name, args);
        scheduleFlush();
        return handle;
      },
    ]),
  ) as unknown as MutateApi<R>;

  let closed = false;
  const start = () => {
    awaitingStart = true;
    void engine.ready().then(() => {
      awaitingStart = false;
      if (!closed && !offlineByChoice) {
        // A stored replica starts from its stored base.
        if (streamLsn === 0) streamLsn = engine.lsn;
        conn.start();
      }
      connectionChanged();
    });
  };
  if (!options.offline) start();

  return {
    get clientId() {
      return engine.clientId;
    },
    docId: options.docId,
    mutate,
    query: (sql, params) => engine.query(sql, params),
    measureQuery: (sql, params) => engine.measure(sql, params),
    subscribe: (sql, params, listener, onError) => engine.subscribe(sql, params, listener, onError),
    status,
    subscribeStatus(listener) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    ready: () => engine.ready(),
    synced() {
      const wait = new Promise<void>((resolve, reject) => syncWaiters.add({ resolve, reject }));
      checkSynced();
      return wait;
    },
    disconnect: () => {
      offlineByChoice = true;
      conn.stop('offline');
    },
    connect: () => {
      offlineByChoice = false;
      emit();
      if (!closed) start();
    },
    async hydrate(hydrateOptions = {}) {
      for (;;) {
        const { missing, total } = await engine.withReplica((db) => {
          const { pageCount, pages } = db.pages.baseImage();
          const lacking: number[] = [];
          for (let pgno = 1; pgno <= pageCount; pgno++) if (!pages.has(pgno)) lacking.push(pgno);
          return { missing: lacking, total: pageCount };
        });
        hydrateOptions.onProgress?.({ pages: total - missing.length, total });
        if (missing.length === 0 && total > 0) return;
        if (total === 0) {
          // Nothing is known about the document before the first snapshot.
          if (!(await pageConnection())) throw fetcher.offlineError(1);
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        for (let i = 0; i < missing.length; i += HYDRATE_BATCH) {
          await fetcher.fetch(missing.slice(i, i + HYDRATE_BATCH), await pageConnection());
          hydrateOptions.onProgress?.({ pages: Math.min(total, total - missing.length + i + HYDRATE_BATCH), total });
        }
      }
    },
    inspect: (fn) => engine.withReplica(fn),
    async close() {
      if (closed) return;
      closed = true;
      connectionChanged();
      checkSynced();
      conn.stop('closed');
      statusListeners.clear();
      await engine.close();
    },
  };
}

// Pages per request while hydrating: 4 MiB answers keep progress visible.
const HYDRATE_BATCH = 1024;

/** The client's outstanding page requests: one per batch of pages, deduplicated by page. */
class PageFetcher {
  private nextId = 1;
  private readonly requests = new Map<number, { pgnos: number[]; resolve(): void; reject(error: unknown): void }>();
  private readonly inFlight = new Map<number, Promise<void>>();

  /** Asks for the pages not already on their way; resolves once all of them were applied. */
  fetch(pgnos: readonly number[], conn: Connection | undefined): Promise<void> {
    if (!conn) return Promise.reject(this.offlineError(pgnos.length));
    const waits: Promise<void>[] = [];
    const wanted: number[] = [];
    for (const pgno of new Set(pgnos)) {
      const pending = this.inFlight.get(pgno);
      if (pending) waits.push(pending);
      else wanted.push(pgno);
    }
    for (let i = 0; i < wanted.length; i += HYDRATE_BATCH) {
      const batch = wanted.slice(i, i + HYDRATE_BATCH);
      const id = this.nextId++;
      const done = new Promise<void>((resolve, reject) => this.requests.set(id, { pgnos: batch, resolve, reject }));
      done.catch(() => {});
      for (const pgno of batch) this.inFlight.set(pgno, done);
      waits.push(done);
      if (!conn.send({ type: 'getPages', id, pgnos: batch.map((pgno) => ({ pgno })) })) this.fail(id, this.offlineError(batch.length));
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** The request an answer is for, no longer outstanding. */
  take(id: number): { resolve(): void; reject(error: unknown): void } | undefined {
    const request = this.requests.get(id);
    if (!request) return undefined;
    this.requests.delete(id);
    for (const pgno of request.pgnos) this.inFlight.delete(pgno);
    return request;
  }

  /** The connection dropped: answers will not come. */
  failAll(): void {
    for (const id of [...this.requests.keys()]) this.fail(id, this.offlineError(this.requests.get(id)!.pgnos.length));
  }

  offlineError(pages: number): QuireError {
    return new QuireError(
      'offline_missing_pages',
      `this read needs ${pages} page(s) the local replica does not hold, and the client is offline — reconnect, or call client.hydrate() while online to keep the whole document for offline use`,
    );
  }

  private fail(id: number, error: unknown): void {
    this.take(id)?.reject(error);
  }
}

// Status errors are plain objects: a worker posts them to tabs, and structured
// clone keeps an Error's message but not its code. One object per error, so
// an unchanged status stays the same object.
const plainErrors = new WeakMap<object, { code: string; message: string }>();
function plainError(error: { code: string; message: string } | undefined): { code: string; message: string } | undefined {
  if (!(error instanceof Error)) return error;
  let plain = plainErrors.get(error);
  if (!plain) plainErrors.set(error, (plain = { code: error.code, message: error.message }));
  return plain;
}

function connectionUrl(base: string, docId: string, params: Record<string, string> | undefined): string {
  const url = new URL(base);
  url.searchParams.set('doc', docId);
  for (const [key, value] of Object.entries(params ?? {})) url.searchParams.set(key, value);
  return url.toString();
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
