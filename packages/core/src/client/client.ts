import type { QueryStats } from '../engine/engine.js';
import type { ErrorListener, QueryListener } from '../engine/subscriptions.js';
import { QuireError } from '../errors.js';
import { ID_RULE, isValidClientId, isValidDocId } from '../protocol/index.js';
import { type Reducers, assertReducersOption } from '../reducers/define-reducers.js';
import type { Row, SqlParams } from '../reducers/tx.js';
import type { ReplicaDb } from '../replica/replica-db.js';
import type { ReplicaStore } from '../store/replica-store.js';
import type { BackoffOptions } from './backoff.js';
import type { WebSocketConstructor } from './connection.js';
import type { ClientInspection } from './inspection.js';
import type { MutateApi } from './mutation-handle.js';
import type { Json, Presence } from './presence.js';
import { SyncClient } from './sync-client.js';
import type { SyncStatus } from './sync-status.js';

export interface ClientOptions<R extends Reducers, P = Json> {
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
   * With `partial`: a document of at most this many bytes is fetched whole
   * at its first missing page, in one round trip instead of one per b-tree
   * level and scan batch; larger ones are fetched as they are read. Default 0
   * (never whole).
   */
  fetchWholeBelow?: number;
  /**
   * With `partial`: bytes of document pages to keep; the least recently used
   * go first. Page 1, interior b-tree pages and pages under pending changes
   * are never dropped. Default unbounded.
   */
  cacheSize?: number;
  /**
   * This client's presence state from the start (see `client.presence` and
   * docs/PRESENCE.md); it also types the state: annotate it (`{ … } as Me`),
   * or pass a typed value, for a `Presence<Me>`. Default: none, `Presence<Json>`.
   */
  presence?: P;
}

/** Progress of {@link QuireClient.hydrate}. */
export interface HydrateProgress {
  /** Pages held so far. */
  pages: number;
  /** Pages in the document. */
  total: number;
}

export interface QuireClient<R extends Reducers, P = Json> {
  /** This replica's id. With stored state it is the stored id, known once `ready()` resolved. */
  readonly clientId: string;
  readonly docId: string;
  /** One method per reducer: applies it locally at once and sends it to the server. */
  readonly mutate: MutateApi<R>;
  /**
   * This client's ephemeral state on the document (a name, a cursor, what it
   * edits) and everyone else's, relayed by the server and never stored.
   * See {@link Presence} and docs/PRESENCE.md.
   */
  readonly presence: Presence<P>;
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
   * Resolves once this client has the server's state: it is welcomed (`connected`, or `update_required`), its
   * base has reached the LSN the server had when it welcomed this
   * connection, and no mutation of its own is pending (each was confirmed
   * or rejected). Local reads then match the server as of that LSN. Waits
   * through reconnects (including while offline or `waiting_for_server`); rejects when the client
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
  /**
   * What the client shows of itself: its pending mutations and how far each
   * got, LSN and durable LSN, pages held and fetched, bytes received and
   * recent errors. See docs/INSPECTOR.md.
   *
   * @example
   * const { pending, errors } = await client.inspection();
   * console.table(pending); // seq, name, args, state: applied | sent | committed | …
   */
  inspection(): Promise<ClientInspection>;
  /**
   * Calls `listener` with an inspection soon, then after changes, at most
   * every 150 ms. While nobody subscribes the client keeps only its recent
   * errors. Returns the unsubscribe function.
   */
  subscribeInspection(listener: (inspection: ClientInspection) => void): () => void;
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
export function createClient<R extends Reducers, P = Json>(options: ClientOptions<R, P>): QuireClient<R, P> {
  assertReducersOption(options, 'createClient');
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
  return new SyncClient<R, P>(options, WebSocketImpl, options.clientId ?? randomId());
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
