import type { ConnectionState } from './sync-status.js';

/**
 * Where a mutation is on its way to the server:
 * - `waiting`: queued, not yet applied locally (its pages are being fetched, or the store is loading);
 * - `applied`: applied to the local replica, not yet sent on this connection;
 * - `sent`: sent to the server, no commit of it seen yet;
 * - `committed`: the server applied it in a commit that is not yet durable (it stays pending until it is);
 * - `confirmed`: the server's log holds it; its `server` promise resolved;
 * - `rejected`: the reducer threw on the server; its `server` promise rejected with `error.code`.
 */
export type MutationState = 'waiting' | 'applied' | 'sent' | 'committed' | 'confirmed' | 'rejected';

/** One mutation as the inspector shows it. */
export interface InspectedMutation {
  readonly seq: number;
  /** The reducer's name. */
  readonly name: string;
  /** The arguments as JSON (superjson's `json` part: a Date shows as its ISO string), cut to at most 80 characters; `''` for none. */
  readonly args: string;
  readonly state: MutationState;
  /** `confirmed`: the LSN of the commit that applied it. */
  readonly lsn?: number;
  /** `rejected`: what the reducer threw on the server. */
  readonly error?: { readonly code: string; readonly message: string };
  /** `confirmed` or `rejected`: when it settled (ms since the epoch). */
  readonly settledAt?: number;
}

/**
 * Where an error came from: `rejected` (the server refused one of this
 * client's mutations), `server` (an error message from the server),
 * `connection` (the socket failed or closed), `local` (the store, the
 * replica, or a mutation too large to send).
 */
export type ErrorSource = 'rejected' | 'server' | 'connection' | 'local';

/** One of the client's recent errors. */
export interface InspectedError {
  /** When it happened (ms since the epoch). */
  readonly at: number;
  readonly source: ErrorSource;
  readonly code: string;
  readonly message: string;
  /** How many times in a row it happened, the last at `at` (an unreachable server fails each retry alike). */
  readonly count: number;
  /** `rejected`: the mutation's seq. */
  readonly seq?: number;
}

/**
 * What a client shows of itself, for an inspector panel or a bug report:
 * see {@link QuireClient.inspection}. Plain data: it can be logged, posted
 * to another thread or sent as JSON.
 */
export interface ClientInspection {
  /** When this was taken (ms since the epoch). */
  readonly at: number;
  readonly clientId: string;
  readonly docId: string;
  readonly connection: ConnectionState;
  /** The server LSN the replica shows, durable or not (as `status().lsn`). */
  readonly lsn: number;
  /** The server LSN of the durable base (as `status().durableLsn`). */
  readonly durableLsn: number;
  /** How many mutations are pending (the list below stops at 100). */
  readonly pendingCount: number;
  /** The oldest 100 pending mutations, in seq order. */
  readonly pending: readonly InspectedMutation[];
  /**
   * The last 20 mutations that settled while someone was subscribed
   * ({@link QuireClient.subscribeInspection}), newest first: an unwatched
   * client keeps no record of confirmations. Rejections are always in `errors`.
   */
  readonly settled: readonly InspectedMutation[];
  readonly pages: {
    /** Pages of the durable base the replica holds. */
    readonly held: number;
    /** Pages in the document at the durable base. */
    readonly total: number;
    /** Pages fetched on demand so far (a partial replica; `hydrate()` too). */
    readonly fetched: number;
  };
  /** Frames and bytes received from the server since the client started, over every connection. */
  readonly received: { readonly frames: number; readonly bytes: number };
  /** The last 20 errors, newest first. */
  readonly errors: readonly InspectedError[];
}
