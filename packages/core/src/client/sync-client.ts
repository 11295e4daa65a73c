import { Engine } from '../engine/engine.js';
import { QuireError } from '../errors.js';
import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../protocol/index.js';
import { appVersionOf } from '../reducers/define-app.js';
import type { Reducers } from '../reducers/define-reducers.js';
import type { ClientOptions, QuireClient } from './client.js';
import { CommitStream, type StreamedUpdate } from './commit-stream.js';
import { Connection, type WebSocketConstructor } from './connection.js';
import type { ClientInspection, MutationState } from './inspection.js';
import { INSPECT_PENDING, type InspectionState, Inspector, inspectedMutation } from './inspector.js';
import type { MutateApi, MutationHandle } from './mutation-handle.js';
import { MutationPusher } from './mutation-pusher.js';
import { PAGE_REQUEST_BATCH, PageFetcher, offlineError } from './page-fetcher.js';
import type { AppVersions, ConnectionState, SyncStatus } from './sync-status.js';
import { ClientPresence } from './client-presence.js';
import type { Json, Presence } from './presence.js';
import { PresenceHub } from './presence-hub.js';

type SyncError = SyncStatus['lastError'];

/**
 * A client: the engine (replica, pending queue, live queries) kept in sync
 * with the server over one connection. Built by `createClient`, which checks
 * the options first.
 *
 * The public methods are arrow properties, so they work detached from the
 * client (`useSyncExternalStore(client.subscribeStatus, client.status)`).
 */
export class SyncClient<R extends Reducers, P = Json> implements QuireClient<R, P> {
  readonly docId: string;
  readonly mutate: MutateApi<R>;
  readonly presence: Presence<P>;
  /** The connection's presence states by key; `client.presence` is key 0 (see `presenceHubOf`). */
  readonly presenceHub: PresenceHub;
  private readonly partial: boolean;
  private readonly engine: Engine;
  private readonly conn: Connection;
  private readonly fetcher = new PageFetcher();
  private readonly stream = new CommitStream();
  private readonly inspector = new Inspector(() => this.inspectionState());
  // Pages received in answers to page requests (partial reads and hydrate), for the inspector.
  private pagesFetched = 0;
  // The engine's errors last seen by emit(), so each new one is recorded once.
  private seenStoreError: unknown;
  private seenApplyError: unknown;
  private readonly pusher: MutationPusher;
  private readonly statusListeners = new Set<(status: SyncStatus) => void>();
  private readonly syncWaiters = new Set<{ resolve(): void; reject(error: Error): void }>();
  // Page reads waiting for the connection to be welcomed (or to fail).
  private readonly connectionWaiters = new Set<() => void>();
  private connection: ConnectionState = 'offline';
  private lastError: SyncError;
  // Set for good once the replica could not apply an update (see replicaFailed).
  private replicaError: SyncError;
  private offlineByChoice: boolean;
  // Set while the client means to connect but has not started the socket yet
  // (a stored replica is still loading).
  private awaitingStart = false;
  private closed = false;
  // status() returns the same object until something changes (React's
  // useSyncExternalStore relies on that).
  private current: SyncStatus;
  // This client's app version (defineApp, sent in hello) and the server's from its last welcome.
  private appVersion: AppVersions;

  constructor(options: ClientOptions<R, P>, WebSocket: WebSocketConstructor, clientId: string) {
    this.docId = options.docId;
    this.partial = options.partial === true;
    this.appVersion = { client: appVersionOf(options.reducers), server: undefined };
    this.offlineByChoice = options.offline === true;
    this.current = { connection: this.connection, pending: 0, lsn: 0, durableLsn: 0, lastError: undefined, offlineByChoice: this.offlineByChoice, appVersion: this.appVersion };
    this.engine = new Engine({
      reducers: options.reducers,
      clientId,
      userId: options.userId,
      store: options.store,
      prefetch: options.prefetch,
      fetchWholeBelow: options.partial ? options.fetchWholeBelow : undefined,
      cacheSize: options.partial ? options.cacheSize : undefined,
      onEvict: (pgnos) => this.evicted(pgnos),
      onSettled: (mutation, lsn, rejection) => this.inspector.mutationSettled(mutation, lsn, rejection),
      ...(this.partial ? { fetchPages: (pgnos: number[]) => this.pageConnection().then((conn) => this.fetcher.fetch(pgnos, conn)) } : {}),
    });
    this.pusher = new MutationPusher({
      connected: () => this.welcomed,
      sendable: () => this.engine.sendable(),
      send: (frame) => this.conn.send(frame),
      tooLarge: (error) => {
        this.lastError = error;
        this.inspector.error('local', error);
        this.emit();
      },
    });
    this.presenceHub = new PresenceHub({
      clientId: () => this.engine.clientId,
      send: (states) => this.welcomed && this.conn.send({ type: 'setPresence', states }),
    });
    this.presence = new ClientPresence<P>(this.presenceHub, 0);
    if (options.presence !== undefined && options.presence !== null) this.presence.set(options.presence);
    this.engine.subscribeState(() => {
      this.emit();
      // A mutation became durable in the store: it may be sent now.
      if (this.engine.pendingCount > 0) this.pusher.schedule();
    });
    this.conn = new Connection(
      { url: connectionUrl(options.url, options.docId, options.params), WebSocket, ...options.reconnect },
      {
        onOpen: () => this.hello(),
        onMessage: (message) => this.receive(message),
        onState: (state, error) => this.connectionLost(state, error),
      },
    );
    this.mutate = Object.fromEntries(
      Object.keys(options.reducers.definitions).map((name) => [
        name,
        (args?: unknown): MutationHandle => {
          const handle = this.engine.mutate(name, args);
          this.pusher.schedule();
          return handle;
        },
      ]),
    ) as unknown as MutateApi<R>;
    if (!options.offline) this.start();
  }

  get clientId(): string {
    return this.engine.clientId;
  }

  readonly query: QuireClient<R>['query'] = (sql, params) => this.engine.query(sql, params);

  readonly measureQuery: QuireClient<R>['measureQuery'] = (sql, params) => this.engine.measure(sql, params);

  readonly subscribe: QuireClient<R>['subscribe'] = (sql, params, listener, onError) => this.engine.subscribe(sql, params, listener, onError);

  readonly status = (): SyncStatus => this.current;

  readonly subscribeStatus = (listener: (status: SyncStatus) => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => void this.statusListeners.delete(listener);
  };

  readonly ready = (): Promise<void> => this.engine.ready();

  readonly synced = (): Promise<void> => {
    const wait = new Promise<void>((resolve, reject) => this.syncWaiters.add({ resolve, reject }));
    this.checkSynced();
    return wait;
  };

  readonly disconnect = (): void => {
    this.offlineByChoice = true;
    this.conn.stop('offline');
  };

  readonly connect = (): void => {
    this.offlineByChoice = false;
    this.emit();
    if (!this.closed) this.start();
  };

  readonly hydrate: QuireClient<R>['hydrate'] = async (options = {}) => {
    for (;;) {
      const { missing, total } = await this.engine.withReplica((db) => {
        const { pageCount, pages } = db.pages.baseImage();
        const lacking: number[] = [];
        for (let pgno = 1; pgno <= pageCount; pgno++) if (!pages.has(pgno)) lacking.push(pgno);
        return { missing: lacking, total: pageCount };
      });
      options.onProgress?.({ pages: total - missing.length, total });
      if (missing.length === 0 && total > 0) return;
      if (total === 0) {
        // Nothing is known about the document before the first snapshot.
        if (!(await this.pageConnection())) throw offlineError(1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      for (let i = 0; i < missing.length; i += PAGE_REQUEST_BATCH) {
        await this.fetcher.fetch(missing.slice(i, i + PAGE_REQUEST_BATCH), await this.pageConnection());
        options.onProgress?.({ pages: Math.min(total, total - missing.length + i + PAGE_REQUEST_BATCH), total });
      }
    }
  };

  readonly inspect: QuireClient<R>['inspect'] = (fn) => this.engine.withReplica(fn);

  readonly inspection = (): Promise<ClientInspection> => Promise.resolve(this.inspector.inspection());

  readonly subscribeInspection = (listener: (inspection: ClientInspection) => void): (() => void) => this.inspector.subscribe(listener);

  readonly close = async (): Promise<void> => {
    if (this.closed) return;
    this.closed = true;
    this.connectionChanged();
    this.checkSynced();
    this.conn.stop('closed');
    this.presenceHub.close();
    this.statusListeners.clear();
    this.inspector.close();
    await this.engine.close();
  };

  /** Opens the socket once the replica is loaded (a stored one starts from its stored base). */
  private start(): void {
    this.awaitingStart = true;
    void this.engine.ready().then(() => {
      this.awaitingStart = false;
      if (!this.closed && !this.offlineByChoice) {
        this.stream.startAt(this.engine.durableLsn);
        this.conn.start();
      }
      this.connectionChanged();
    });
  }

  private hello(): ClientMessage {
    this.stream.opened();
    // The new server may not have what the old one never made durable.
    this.engine.dropSpeculative().catch((error) => this.replicaFailed(error));
    const held = this.partial ? this.engine.heldPages().map((pgno) => ({ pgno })) : [];
    return { type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: this.appVersion.client, clientId: this.engine.clientId, lastLsn: this.stream.lastLsn, fromSeq: this.engine.lowestPendingSeq(), partial: this.partial, held };
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome': {
        // A newer server: everything syncs as usual, but the user should reload.
        this.connection = message.appVersion > this.appVersion.client ? 'update_required' : 'connected';
        if (this.appVersion.server !== message.appVersion) this.appVersion = { ...this.appVersion, server: message.appVersion };
        this.lastError = undefined;
        this.conn.handshakeDone();
        this.connectionChanged();
        this.pusher.restart(message.maxMessageBytes);
        this.presenceHub.welcomed();
        const settleNow = this.stream.welcome(message, this.engine.clientId);
        if (settleNow.length > 0) void this.engine.settleRejections(settleNow);
        this.emit();
        this.pusher.schedule();
        // Reads that failed offline for want of pages can fetch them now.
        if (this.partial) this.engine.resume();
        return;
      }
      case 'pages': {
        const request = this.fetcher.take(message.id);
        this.pagesFetched += message.pages.length;
        if (request) this.engine.applyPages(message.lsn, message.pageCount, message.pages).then(request.resolve, request.reject);
        return;
      }
      case 'snapshot': {
        const streamed = this.stream.snapshot(message);
        if (streamed) this.apply(streamed);
        return;
      }
      case 'rejections':
        this.stream.rejections(message);
        return;
      case 'presence':
        this.presenceHub.receive(message);
        return;
      case 'durable': {
        const lsn = this.stream.durableAt(message);
        if (lsn !== undefined) this.applyDurable(lsn);
        return;
      }
      case 'commit': {
        const streamed = this.stream.commit(message);
        // A gap in the commit stream: get a fresh state.
        if (streamed === 'gap') this.conn.restart();
        // The commit may also say how far the log is durable (up to it, or to an earlier one): apply folds that in.
        else if (streamed) this.apply(streamed);
        return;
      }
      case 'error':
        this.lastError = { code: message.code, message: message.message };
        this.inspector.error('server', this.lastError);
        this.emit();
        // A refused push (e.g. a seq gap) is resent from the oldest pending mutation.
        if (message.seq > 0) this.conn.restart();
        return;
    }
  }

  private applyDurable(lsn: number): void {
    this.engine.applyDurable(lsn).then(() => this.emit(), (error) => this.replicaFailed(error));
  }

  private apply({ update, rejections, durable, durableTo }: StreamedUpdate): void {
    this.engine.applyServerUpdate(update, rejections, durable, durableTo).then(
      () => {
        this.stream.applied(update);
        this.emit();
      },
      (error) => this.replicaFailed(error),
    );
  }

  /** The engine could not apply a server update: the replica no longer fits the server's history. */
  private replicaFailed(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (!this.replicaError) {
      this.replicaError = {
        code: 'replica_failed',
        message: `the local replica could not apply the server's update (${reason}) — close the client and open it again on an empty store`,
      };
      this.inspector.error('local', this.replicaError);
    }
    this.emit();
  }

  /** The connection is no longer welcomed: connecting again, offline, refused or closed. */
  private connectionLost(state: ConnectionState, error: SyncError): void {
    if (state === 'connected') return;
    this.fetcher.failAll();
    this.presenceHub.disconnected();
    // Retrying after a server said it is older: still waiting for a server of this version.
    this.connection = state === 'connecting' && this.connection === 'waiting_for_server' ? 'waiting_for_server' : state;
    if (error) {
      this.lastError = error;
      this.inspector.error('connection', error);
    }
    this.connectionChanged();
    this.emit();
  }

  /** The cache dropped pages: the server need not send their changes. */
  private evicted(pgnos: number[]): void {
    if (this.welcomed) this.conn.send({ type: 'forget', pgnos: pgnos.map((pgno) => ({ pgno })) });
  }

  /**
   * The connection to fetch pages over: the open one, or the one being
   * opened once it is; none when offline (the read fails at once, it never hangs).
   */
  private async pageConnection(): Promise<Connection | undefined> {
    while (!this.welcomed) {
      if (this.closed || !(this.connection === 'connecting' || this.awaitingStart)) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.connectionWaiters.delete(wake);
          resolve();
        };
        this.connectionWaiters.add(wake);
      });
    }
    return this.conn;
  }

  /** The server welcomed the current connection (`connected`, or `update_required`, which syncs alike). */
  private get welcomed(): boolean {
    return this.connection === 'connected' || this.connection === 'update_required';
  }

  private connectionChanged(): void {
    for (const wake of [...this.connectionWaiters]) wake();
  }

  private emit(): void {
    const error = plainError(this.replicaError ?? this.engine.applyError ?? this.lastError ?? this.engine.storeError);
    const now = this.current;
    // Compared field by field before a new object is made: this runs several times per server commit.
    if (
      now.connection !== this.connection ||
      now.pending !== this.engine.pendingCount ||
      now.lsn !== this.engine.lsn ||
      now.durableLsn !== this.engine.durableLsn ||
      now.lastError !== error ||
      now.offlineByChoice !== this.offlineByChoice ||
      now.appVersion !== this.appVersion
    ) {
      const next: SyncStatus = {
        connection: this.connection,
        pending: this.engine.pendingCount,
        lsn: this.engine.lsn,
        durableLsn: this.engine.durableLsn,
        lastError: error,
        offlineByChoice: this.offlineByChoice,
        appVersion: this.appVersion,
      };
      this.current = next;
      for (const listener of [...this.statusListeners]) listener(next);
    }
    this.noteEngineErrors();
    this.inspector.changed();
    this.checkSynced();
  }

  /** The store's and the local apply's errors surface through emit(): each new one goes to the inspector once. */
  private noteEngineErrors(): void {
    const { storeError, applyError } = this.engine;
    if (storeError !== this.seenStoreError && storeError) this.inspector.error('local', storeError);
    if (applyError !== this.seenApplyError && applyError) this.inspector.error('local', applyError);
    this.seenStoreError = storeError;
    this.seenApplyError = applyError;
  }

  private inspectionState(): InspectionState {
    const sentThrough = this.welcomed ? this.pusher.sentThrough : 0;
    const stateOf = (m: { seq: number; applied: boolean; committed: boolean }): MutationState =>
      m.committed ? 'committed' : m.seq <= sentThrough ? 'sent' : m.applied ? 'applied' : 'waiting';
    return {
      clientId: this.clientId,
      docId: this.docId,
      connection: this.connection,
      lsn: this.engine.lsn,
      durableLsn: this.engine.durableLsn,
      pendingCount: this.engine.pendingCount,
      pending: this.engine.pendingProgress(INSPECT_PENDING).map((m) => inspectedMutation(m, stateOf(m))),
      pages: { ...this.engine.heldPageCount(), fetched: this.pagesFetched },
      received: this.conn.received,
    };
  }

  private checkSynced(): void {
    if (this.syncWaiters.size === 0) return;
    let failure: Error | undefined;
    if (this.closed) failure = new QuireError('client_closed', 'the client was closed before it synced — create a new client');
    else if (this.connection === 'unauthorized') failure = new QuireError(this.lastError?.code ?? 'unauthorized', `the server refused this client for good: ${this.lastError?.message ?? 'unauthorized'}`);
    const done = this.welcomed && this.stream.caughtUpAt(this.engine.lsn) && this.engine.pendingCount === 0;
    if (!failure && !done) return;
    for (const waiter of [...this.syncWaiters]) (failure ? waiter.reject(failure) : waiter.resolve());
    this.syncWaiters.clear();
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
