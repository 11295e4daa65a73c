import type { HydrateProgress, QuireClient } from '../client/client.js';
import type { ClientInspection } from '../client/inspection.js';
import type { MutateApi, MutationHandle } from '../client/mutation-handle.js';
import type { Json, PresencePeer } from '../client/presence.js';
import type { SyncStatus } from '../client/sync-status.js';
import type { ErrorListener, QueryListener } from '../engine/subscriptions.js';
import { QuireError } from '../errors.js';
import { ID_RULE, isValidDocId } from '../protocol/index.js';
import { appVersionOf } from '../reducers/define-app.js';
import type { Reducers } from '../reducers/define-reducers.js';
import type { Row, SqlParams } from '../reducers/tx.js';
import type { QueryStats } from '../engine/engine.js';
import { connectToLeader } from './leader-election.js';
import { applyRowChange } from './row-change.js';
import { type HostMessage, type PortLike, type TabMessage, fromWireError } from './rpc.js';
import { TabPresence } from './tab-presence.js';

export interface BrowserClientOptions<R extends Reducers, P = Json> {
  /** The sync server: `ws(s)://…`, or a path such as `/sync` on this page's host. */
  url: string;
  docId: string;
  /** The reducers, for the typed `mutate` API; the worker runs its own copy. */
  reducers: R;
  /** Makes the app's worker as a SharedWorker: one engine for all tabs. */
  sharedWorker?: () => SharedWorker;
  /** Makes it as a dedicated Worker, where SharedWorker is missing: one tab leads, the others talk to it. */
  worker?: () => Worker;
  /** Extra query parameters for the sync connection, e.g. an auth token. */
  params?: Record<string, string>;
  userId?: string;
  /**
   * This tab's presence state from the start (see `client.presence` and
   * docs/PRESENCE.md); it also types the state. Each tab has its own, though
   * the tabs of a profile share one engine and connection. Default: none.
   */
  presence?: P;
}

// "Go offline" is a choice the user expects to outlive a reload, like the
// data itself: remembered per document in localStorage.
const offlineKey = (docId: string) => `quire:offline:${docId}`;

function rememberOffline(docId: string, offline: boolean): void {
  try {
    if (offline) globalThis.localStorage?.setItem(offlineKey(docId), '1');
    else globalThis.localStorage?.removeItem(offlineKey(docId));
  } catch {
    // Storage disabled: the choice lasts until the page closes.
  }
}

function wasOffline(docId: string): boolean {
  try {
    return globalThis.localStorage?.getItem(offlineKey(docId)) === '1';
  } catch {
    return false;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A client whose engine runs in a worker: the page only sends calls and
 * receives rows, so SQLite, rebase and the socket never block rendering.
 * Tabs of one browser profile share one engine per document.
 *
 * @example
 * const client = createBrowserClient({
 *   url: '/sync', docId, reducers,
 *   sharedWorker: () => new SharedWorker(new URL('./quire.worker.ts', import.meta.url), { type: 'module' }),
 *   worker: () => new Worker(new URL('./quire.worker.ts', import.meta.url), { type: 'module' }),
 * });
 */
export function createBrowserClient<R extends Reducers, P = Json>(options: BrowserClientOptions<R, P>): QuireClient<R, P> {
  if (!isValidDocId(options.docId)) throw new QuireError('invalid_doc_id', `docId "${options.docId}" is not valid — ${ID_RULE}`);
  return connectClient(options, openPort(options));
}

/** The page side of the engine host protocol, over any port (tests use a MessageChannel). */
export function connectClient<R extends Reducers, P = Json>(options: Omit<BrowserClientOptions<R, P>, 'sharedWorker' | 'worker'>, port: PortLike): QuireClient<R, P> {
  let nextId = 1;
  let clientId = '';
  let closed = false;
  // The worker could not start: every call fails with this.
  let failed: Error | undefined;
  const startOffline = wasOffline(options.docId);
  let status: SyncStatus = {
    connection: startOffline ? 'offline' : 'connecting',
    pending: 0,
    lsn: 0,
    durableLsn: 0,
    lastError: undefined,
    offlineByChoice: startOffline,
    // Until the worker's status arrives (it runs the worker's reducers, normally the same).
    appVersion: { client: appVersionOf(options.reducers), server: undefined },
  };
  const statusListeners = new Set<(status: SyncStatus) => void>();
  // The worker streams inspections only while this tab has listeners.
  const inspectionListeners = new Set<(inspection: ClientInspection) => void>();
  const calls = new Map<number, Pending>();
  const progressListeners = new Map<number, (progress: HydrateProgress) => void>();
  const mutations = new Map<number, { handle: { seq: number }; local: Pending; server: Pending }>();
  // `rows`: the last rows the worker sent, which its next message changes.
  const subscriptions = new Map<number, { sql: string; params: SqlParams | undefined; listener: QueryListener; onError: ErrorListener | undefined; rows?: Row[] | undefined }>();
  let markReady!: () => void;
  let failReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
  ready.catch(() => {});

  const send = (message: TabMessage) => {
    if (!closed) port.postMessage(message);
  };
  const presence = new TabPresence<P>((state) => send({ t: 'presence', state }));

  port.onmessage = (event) => {
    const message = event.data as HostMessage;
    switch (message.t) {
      case 'ready':
        clientId = message.clientId;
        markReady();
        return;
      case 'status':
        status = message.status;
        for (const listener of [...statusListeners]) listener(status);
        return;
      case 'local': {
        const m = mutations.get(message.id);
        if (!m) return;
        m.handle.seq = message.seq;
        if (message.error) m.local.reject(fromWireError(message.error));
        else m.local.resolve(undefined);
        return;
      }
      case 'server': {
        const m = mutations.get(message.id);
        if (!m) return;
        mutations.delete(message.id);
        if (message.error) m.server.reject(fromWireError(message.error));
        else m.server.resolve({ lsn: message.lsn });
        return;
      }
      case 'result': {
        const call = calls.get(message.id);
        calls.delete(message.id);
        if (message.error) call?.reject(fromWireError(message.error));
        else call?.resolve(message.inspection ?? (message.stats ? { rows: message.rows, stats: message.stats } : message.rows));
        return;
      }
      case 'inspection':
        for (const listener of [...inspectionListeners]) listener(message.inspection);
        return;
      case 'others':
        presence.received(message.others as readonly PresencePeer<P>[]);
        return;
      case 'progress':
        progressListeners.get(message.id)?.({ pages: message.pages, total: message.total });
        return;
      case 'rows': {
        const sub = subscriptions.get(message.id);
        if (!sub) return;
        sub.rows = applyRowChange(sub.rows ?? [], message.change);
        sub.listener(sub.rows);
        return;
      }
      case 'queryError':
        subscriptions.get(message.id)?.onError?.(fromWireError(message.error));
        return;
      case 'fatal': {
        const error = fromWireError(message.error);
        failed = error;
        failReady(error);
        for (const call of calls.values()) call.reject(error);
        calls.clear();
        for (const m of mutations.values()) {
          m.local.reject(error);
          m.server.reject(error);
        }
        mutations.clear();
        for (const sub of subscriptions.values()) sub.onError?.(error);
        presence.received([]);
        presence.close();
        status = { ...status, connection: 'closed', lastError: { code: (error as { code?: string }).code ?? 'worker_failed', message: error.message } };
        for (const listener of [...statusListeners]) listener(status);
        return;
      }
    }
  };
  const open = (): TabMessage => ({
    t: 'open',
    docId: options.docId,
    url: socketUrl(options.url),
    params: options.params,
    userId: options.userId,
    offline: wasOffline(options.docId),
  });
  send(open());
  if (options.presence !== undefined && options.presence !== null) presence.set(options.presence);
  port.onreset = (undelivered) => {
    // A new engine (the leader tab changed): open again and resubscribe.
    // Calls that reached no engine go to the new one; the others went to the
    // old engine and may never be answered.
    const resend = (undelivered as TabMessage[]).filter((m): m is Extract<TabMessage, { id: number }> => 'id' in m && (calls.has(m.id) || mutations.has(m.id)) && m.t !== 'subscribe' && m.t !== 'unsubscribe');
    const again = new Set(resend.map((m) => m.id));
    const lost = () => new QuireError('engine_restarted', 'the tab that ran the sync engine closed — retry; a mutation that was applied locally is saved and still syncs');
    for (const [id, call] of calls) {
      if (again.has(id)) continue;
      call.reject(lost());
      calls.delete(id);
    }
    for (const [id, m] of mutations) {
      if (again.has(id)) continue;
      m.local.reject(lost());
      m.server.reject(lost());
      mutations.delete(id);
    }
    send(open());
    for (const [id, sub] of subscriptions) {
      // The new engine starts each subscription afresh.
      sub.rows = undefined;
      send({ t: 'subscribe', id, sql: sub.sql, params: sub.params });
    }
    if (inspectionListeners.size > 0) send({ t: 'watchInspection', on: true });
    presence.reopened();
    for (const message of resend) send(message);
  };

  const deferred = (): [Promise<unknown>, Pending] => {
    let pending!: Pending;
    const promise = new Promise((resolve, reject) => (pending = { resolve, reject }));
    promise.catch(() => {});
    return [promise, pending];
  };
  const closedError = () => new QuireError('client_closed', 'this client is closed — create a new client');

  /** Sends the request `make(id)` builds; the worker answers it with a `result` of that id. */
  const request = (make: (id: number) => Extract<TabMessage, { id: number }>): Promise<unknown> => {
    if (closed || failed) return Promise.reject(failed ?? closedError());
    const id = nextId++;
    const [promise, pending] = deferred();
    calls.set(id, pending);
    send(make(id));
    return promise;
  };

  const mutate = Object.fromEntries(
    Object.keys(options.reducers.definitions).map((name) => [
      name,
      (args?: unknown): MutationHandle => {
        const [local, localPending] = deferred();
        const [server, serverPending] = deferred();
        const handle = { seq: 0, local: local as Promise<void>, server: server as Promise<{ lsn: number }> };
        if (closed || failed) {
          localPending.reject(failed ?? closedError());
          serverPending.reject(failed ?? closedError());
          return handle;
        }
        const id = nextId++;
        mutations.set(id, { handle, local: localPending, server: serverPending });
        send({ t: 'mutate', id, name, args });
        return handle;
      },
    ]),
  ) as unknown as MutateApi<R>;

  const close = async () => {
    if (closed) return;
    send({ t: 'close' });
    closed = true;
    statusListeners.clear();
    inspectionListeners.clear();
    presence.close();
    for (const m of mutations.values()) m.server.reject(new QuireError('client_closed', 'the client was closed before the server confirmed this mutation — the worker still sends it'));
    mutations.clear();
    for (const call of calls.values()) call.reject(closedError());
    calls.clear();
    subscriptions.clear();
  };
  // A tab that goes away says so: the worker then drops its subscriptions.
  globalThis.addEventListener?.('pagehide', (event) => {
    if (!(event as PageTransitionEvent).persisted) void close();
  });

  return {
    get clientId() {
      return clientId;
    },
    docId: options.docId,
    mutate,
    presence,
    query<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]> {
      return request((id) => ({ t: 'query', id, sql, params })) as Promise<T[]>;
    },
    measureQuery<T extends Row = Row>(sql: string, params?: SqlParams) {
      return request((id) => ({ t: 'query', id, sql, params, measure: true })) as Promise<{ rows: T[]; stats: QueryStats }>;
    },
    subscribe<T extends Row = Row>(sql: string, params: SqlParams | undefined, listener: QueryListener<T>, onError?: ErrorListener) {
      if (closed) return () => {};
      if (failed) {
        const error = failed;
        queueMicrotask(() => onError?.(error));
        return () => {};
      }
      const id = nextId++;
      subscriptions.set(id, { sql, params, listener: listener as QueryListener, onError });
      send({ t: 'subscribe', id, sql, params });
      return () => {
        if (subscriptions.delete(id)) send({ t: 'unsubscribe', id });
      };
    },
    status: () => status,
    subscribeStatus(listener) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    ready: () => ready,
    disconnect() {
      rememberOffline(options.docId, true);
      send({ t: 'disconnect' });
    },
    connect() {
      rememberOffline(options.docId, false);
      send({ t: 'connect' });
    },
    hydrate(hydrateOptions = {}) {
      let id = 0;
      const promise = request((requestId) => {
        id = requestId;
        if (hydrateOptions.onProgress) progressListeners.set(id, hydrateOptions.onProgress);
        return { t: 'hydrate', id };
      });
      return promise.then(
        () => void progressListeners.delete(id),
        (error: unknown) => {
          progressListeners.delete(id);
          throw error;
        },
      );
    },
    synced() {
      return request((id) => ({ t: 'synced', id })).then(() => undefined);
    },
    inspect() {
      return Promise.reject(new QuireError('not_supported', 'inspect() runs on the replica, which lives in the worker — use query() or inspection() instead'));
    },
    inspection() {
      return request((id) => ({ t: 'inspection', id })) as Promise<ClientInspection>;
    },
    subscribeInspection(listener) {
      if (closed || failed) return () => {};
      inspectionListeners.add(listener);
      if (inspectionListeners.size === 1) send({ t: 'watchInspection', on: true });
      return () => {
        if (inspectionListeners.delete(listener) && inspectionListeners.size === 0) send({ t: 'watchInspection', on: false });
      };
    },
    close,
  };
}

function openPort<R extends Reducers, P>(options: BrowserClientOptions<R, P>): PortLike {
  if (options.sharedWorker && typeof SharedWorker !== 'undefined') {
    const worker = options.sharedWorker();
    const port = worker.port;
    // A worker script that fails to load or throws at the top must not leave the page waiting.
    worker.addEventListener('error', (event) => {
      const message = (event as ErrorEvent).message || 'the worker script failed to load or threw while starting';
      const error = { name: 'QuireError', code: 'worker_failed', message: `the Quire worker failed: ${message} — check the worker script and its URL` };
      port.onmessage?.(new MessageEvent('message', { data: { t: 'fatal', error } }));
    });
    port.start();
    return port;
  }
  if (options.worker) return connectToLeader(options.docId, options.worker);
  throw new QuireError('no_worker', 'createBrowserClient needs sharedWorker and/or worker — pass factories that construct your worker script (see runQuireWorker)');
}

/** `/sync` → `ws(s)://<this host>/sync`; absolute URLs pass through. */
function socketUrl(url: string): string {
  const location = (globalThis as { location?: { href: string } }).location;
  if (/^wss?:\/\//.test(url) || !location) return url;
  const resolved = new URL(url, location.href);
  resolved.protocol = resolved.protocol === 'https:' ? 'wss:' : 'ws:';
  return resolved.toString();
}
