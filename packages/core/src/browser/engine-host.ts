import { createClient, type QuireClient } from '../client/client.js';
import type { MutationHandle } from '../client/mutation-handle.js';
import type { PresencePeer } from '../client/presence.js';
import { presenceHubOf } from '../client/presence-hub-of.js';
import { MAX_PRESENCE_KEY } from '../protocol/index.js';
import { QuireError } from '../errors.js';
import type { Reducers } from '../reducers/define-reducers.js';
import { IndexedDbStore } from '../store/indexeddb-store.js';
import { loadSqlite } from '../vfs/sqlite-module.js';
import type { ReplicaStore } from '../store/replica-store.js';
import { type EngineLock, takeEngineLock } from './engine-lock.js';
import type { Row } from '../reducers/tx.js';
import { diffRows } from './row-change.js';
import { type HostMessage, type PortLike, type TabMessage, toWireError } from './rpc.js';

export interface EngineHostOptions<R extends Reducers> {
  reducers: R;
  /** Where replicas persist. Default: IndexedDB, one database per document. */
  store?: (docId: string) => Promise<ReplicaStore>;
  /** Replicas fetch pages on demand instead of whole documents (see `createClient`). Default false. */
  partial?: boolean;
  /** With `partial`: prefetch for scans. Default true. */
  prefetch?: boolean;
  /** With `partial`: bytes of pages each replica keeps. Default unbounded. */
  cacheSize?: number;
  /** With `partial`: documents of at most this many bytes are fetched whole at their first missing page (see `createClient`). Default 0. */
  fetchWholeBelow?: number;
}

interface HostedDoc {
  client: Promise<QuireClient<Reducers>>;
  tabs: Set<TabSession>;
  /** Held from before the store opens until the client is closed (see takeEngineLock). */
  lock: Promise<EngineLock>;
  /** The presence keys the tabs hold (key 0 is the client's own `presence`, unused here). */
  presenceKeys: Set<number>;
}

/**
 * Runs the engines for every tab that connects: one client (replica, pending
 * queue, socket) per document, shared by all tabs that open it.
 */
export class EngineHost {
  private readonly docs = new Map<string, HostedDoc>();

  constructor(private readonly options: EngineHostOptions<Reducers>) {}

  /** Serves one tab over `port` until the tab says `close`. */
  serve(port: PortLike): void {
    new TabSession(this, port);
  }

  acquire(open: Extract<TabMessage, { t: 'open' }>, tab: TabSession): Promise<QuireClient<Reducers>> {
    let doc = this.docs.get(open.docId);
    if (!doc) {
      const storeFor = this.options.store ?? ((docId: string) => IndexedDbStore.open(docId));
      let hosted: HostedDoc | undefined;
      // Compiling SQLite's WASM takes as long as opening the store: both at once.
      void loadSqlite().catch(() => {});
      // No other engine of this profile (another build's worker) may run the document meanwhile.
      const lock = takeEngineLock(open.docId, () => this.stepDown(open.docId, hosted!));
      const client = lock.then(() => storeFor(open.docId)).then((store) =>
        createClient({
          url: open.url,
          docId: open.docId,
          reducers: this.options.reducers,
          store,
          offline: open.offline,
          ...(this.options.partial ? { partial: true } : {}),
          ...(this.options.prefetch !== undefined ? { prefetch: this.options.prefetch } : {}),
          ...(this.options.cacheSize !== undefined ? { cacheSize: this.options.cacheSize } : {}),
          ...(this.options.fetchWholeBelow !== undefined ? { fetchWholeBelow: this.options.fetchWholeBelow } : {}),
          ...(open.params ? { params: open.params } : {}),
          ...(open.userId !== undefined ? { userId: open.userId } : {}),
        }),
      );
      doc = hosted = { client, tabs: new Set(), lock, presenceKeys: new Set() };
      this.docs.set(open.docId, doc);
    }
    doc.tabs.add(tab);
    return doc.client;
  }

  /** A presence key of the document for a tab: its state goes under it on the shared connection. Undefined if all 63 are taken. */
  takePresenceKey(docId: string): number | undefined {
    const keys = this.docs.get(docId)?.presenceKeys;
    if (!keys) return undefined;
    for (let key = 1; key <= MAX_PRESENCE_KEY; key++) {
      if (keys.has(key)) continue;
      keys.add(key);
      return key;
    }
    return undefined;
  }

  releasePresenceKey(docId: string, key: number): void {
    this.docs.get(docId)?.presenceKeys.delete(key);
  }

  release(docId: string, tab: TabSession): void {
    const doc = this.docs.get(docId);
    if (!doc || !doc.tabs.delete(tab) || doc.tabs.size > 0) return;
    // The last tab left: close the engine so its socket and memory go; the
    // next tab restores it from the store.
    this.docs.delete(docId);
    void doc.client
      .then((client) => client.close())
      .catch(() => {})
      .finally(() => void doc.lock.then((lock) => lock.release(), () => {}));
  }

  /**
   * Another engine of this browser profile (a worker of another build of the
   * app) opened the document: this one stops, its tabs are told to reload,
   * and its client closes, leaving its pending calls in the store for the new one.
   */
  private async stepDown(docId: string, doc: HostedDoc): Promise<void> {
    if (this.docs.get(docId) === doc) this.docs.delete(docId);
    const error = new QuireError(
      'engine_superseded',
      `document "${docId}" was opened by another version of this app in another tab of this browser, which syncs it from now on — reload this tab`,
    );
    for (const tab of doc.tabs) tab.superseded(error);
    doc.tabs.clear();
    await doc.client.then((client) => client.close(), () => {});
  }
}

/** One tab's view of one document. */
class TabSession {
  private client: Promise<QuireClient<Reducers>> | undefined;
  private docId = '';
  private readonly subscriptions = new Map<number, () => void>();
  private stopStatus: (() => void) | undefined;
  private stopInspection: (() => void) | undefined;
  private stopPresence: (() => void) | undefined;
  // This tab's presence key on the shared connection, and the others as last sent to the tab.
  private presenceKey: number | undefined;
  private others: readonly PresencePeer<unknown>[] | undefined;
  private closed = false;

  constructor(
    private readonly host: EngineHost,
    private readonly port: PortLike,
  ) {
    port.onmessage = (event) => this.receive(event.data as TabMessage);
    (port as { start?: () => void }).start?.();
  }

  private post(message: HostMessage): void {
    if (!this.closed) this.port.postMessage(message);
  }

  private receive(message: TabMessage): void {
    if (this.closed) return;
    if (message.t === 'open') return this.open(message);
    if (message.t === 'close') return this.close();
    if (!this.client) return this.post({ t: 'fatal', error: toWireError(new QuireError('not_open', 'the tab sent a request before open')) });
    void this.client.then(
      (client) => this.handle(client, message),
      () => {},
    );
  }

  private open(message: Extract<TabMessage, { t: 'open' }>): void {
    if (this.client) return;
    this.docId = message.docId;
    this.client = this.host.acquire(message, this);
    this.presenceKey = this.host.takePresenceKey(this.docId);
    this.client.then(
      async (client) => {
        await client.ready();
        if (this.closed) return;
        this.post({ t: 'ready', clientId: client.clientId });
        this.post({ t: 'status', status: client.status() });
        this.stopStatus = client.subscribeStatus((status) => this.post({ t: 'status', status }));
        this.watchPresence(client);
      },
      (error) => this.post({ t: 'fatal', error: toWireError(error) }),
    );
  }

  private handle(client: QuireClient<Reducers>, message: TabMessage): void {
    switch (message.t) {
      case 'mutate':
        return this.mutate(client, message);
      case 'query':
        client.measureQuery(message.sql, message.params).then(
          ({ rows, stats }) => this.post({ t: 'result', id: message.id, rows, ...(message.measure ? { stats } : {}) }),
          (error) => this.post({ t: 'result', id: message.id, error: toWireError(error) }),
        );
        return;
      case 'subscribe': {
        let last: readonly Row[] | undefined;
        const stop = client.subscribe(
          message.sql,
          message.params,
          (rows) => {
            const change = diffRows(last, rows);
            last = rows;
            this.post({ t: 'rows', id: message.id, change });
          },
          (error) => this.post({ t: 'queryError', id: message.id, error: toWireError(error) }),
        );
        this.subscriptions.set(message.id, stop);
        return;
      }
      case 'hydrate':
        client
          .hydrate({ onProgress: ({ pages, total }) => this.post({ t: 'progress', id: message.id, pages, total }) })
          .then(
            () => this.post({ t: 'result', id: message.id, rows: [] }),
            (error) => this.post({ t: 'result', id: message.id, error: toWireError(error) }),
          );
        return;
      case 'synced':
        client.synced().then(
          () => this.post({ t: 'result', id: message.id, rows: [] }),
          (error) => this.post({ t: 'result', id: message.id, error: toWireError(error) }),
        );
        return;
      case 'inspection':
        client.inspection().then(
          (inspection) => this.post({ t: 'result', id: message.id, inspection }),
          (error) => this.post({ t: 'result', id: message.id, error: toWireError(error) }),
        );
        return;
      case 'presence':
        if (this.presenceKey !== undefined) presenceHubOf(client).set(this.presenceKey, message.state);
        return;
      case 'watchInspection':
        this.stopInspection?.();
        this.stopInspection = message.on ? client.subscribeInspection((inspection) => this.post({ t: 'inspection', inspection })) : undefined;
        return;
      case 'unsubscribe':
        this.subscriptions.get(message.id)?.();
        this.subscriptions.delete(message.id);
        return;
      case 'connect':
        return client.connect();
      case 'disconnect':
        return client.disconnect();
    }
  }

  private mutate(client: QuireClient<Reducers>, message: Extract<TabMessage, { t: 'mutate' }>): void {
    const { id, name } = message;
    const call = Object.hasOwn(client.mutate, name) ? (client.mutate as Record<string, (args: unknown) => MutationHandle>)[name] : undefined;
    if (!call) {
      const error = toWireError(new QuireError('unknown_reducer', `no reducer named "${name}" in the worker — the worker must load the same reducers as the page`));
      this.post({ t: 'local', id, seq: 0, error });
      this.post({ t: 'server', id, error });
      return;
    }
    const handle = call(message.args);
    handle.local.then(
      () => this.post({ t: 'local', id, seq: handle.seq }),
      (error) => this.post({ t: 'local', id, seq: handle.seq, error: toWireError(error) }),
    );
    handle.server.then(
      ({ lsn }) => this.post({ t: 'server', id, lsn }),
      (error) => this.post({ t: 'server', id, error: toWireError(error) }),
    );
  }

  /** Sends the tab everyone's presence but its own whenever it changes (the hub keeps the same array until then). */
  private watchPresence(client: QuireClient<Reducers>): void {
    if (this.presenceKey === undefined) return;
    const hub = presenceHubOf(client);
    const key = this.presenceKey;
    const update = () => {
      const others = hub.othersOf(key);
      if (others === this.others) return;
      this.others = others;
      this.post({ t: 'others', others });
    };
    this.stopPresence = hub.subscribe(update);
    update();
  }

  /** The engine of this tab's document stepped down: every call of the tab fails from now on. */
  superseded(error: QuireError): void {
    this.post({ t: 'fatal', error: toWireError(error) });
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    this.stopStatus?.();
    this.stopInspection?.();
    this.stopPresence?.();
    this.dropPresence();
    if (this.client) this.host.release(this.docId, this);
  }

  /** The tab left: its state goes from the others' view, and its key is free for the next tab. */
  private dropPresence(): void {
    const key = this.presenceKey;
    if (key === undefined || !this.client) return;
    this.presenceKey = undefined;
    void this.client.then((client) => presenceHubOf(client).set(key, null), () => {});
    this.host.releasePresenceKey(this.docId, key);
  }
}

/**
 * The entry point of the app's worker script. In a SharedWorker every tab
 * connects its own port; in a dedicated worker (the fallback), the leader
 * tab hands over one port per tab with an `attach` message.
 *
 * @example
 * // quire.worker.ts
 * import { runQuireWorker } from '@quire/core/browser';
 * import reducers from './reducers';
 * runQuireWorker({ reducers });
 */
export function runQuireWorker<R extends Reducers>(options: EngineHostOptions<R>): EngineHost {
  const host = new EngineHost(options as EngineHostOptions<Reducers>);
  const scope = globalThis as unknown as {
    onconnect?: ((event: MessageEvent) => void) | null;
    onmessage: ((event: MessageEvent) => void) | null;
  };
  if ('onconnect' in scope) {
    scope.onconnect = (event) => host.serve(event.ports[0]!);
  } else {
    scope.onmessage = (event) => {
      if ((event.data as { t?: string } | null)?.t === 'attach' && event.ports[0]) host.serve(event.ports[0]);
    };
  }
  return host;
}
