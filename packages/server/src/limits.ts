import { QuireError } from '@quire/core';

/**
 * What one client may hold of a server's resources (and for how long its
 * reducers may run), so that a client that floods (a bug, or on purpose)
 * slows down only itself. See "Limits" in
 * docs/PROTOCOL.md.
 */
export interface ServerLimits {
  /**
   * Mutations of one client (per document) handed to the coordinator and not
   * yet applied. At the limit the server stops reading that client's
   * connections until some are applied, so its backlog waits in its own
   * socket instead of in front of everyone else's mutations. Default 1000.
   */
  maxQueuedMutations: number;
  /** The same, in bytes of reducer names and arguments. A single larger mutation still passes alone. Default 8 MiB. */
  maxQueuedBytes: number;
  /**
   * Pages one connection has asked for (in `getPages` requests being worked
   * on) and not been sent yet; later requests wait unread. One request is
   * always taken, whatever its size. Default 1024: one full answer (4 MiB).
   */
  maxPagesInFlight: number;
  /**
   * Open connections of one client id to one document. A new connection over
   * the limit closes the oldest with `too_many_connections` (a half-open
   * connection the client gave up on is the usual oldest). Default 4.
   */
  maxConnectionsPerClient: number;
  /**
   * Bytes the server may have waiting to go out to one connection. Above it
   * the server reads no more page requests from that connection, and if the
   * backlog has not shrunk `slowConsumerMs` later, it closes the connection
   * with `slow_consumer`. Default 32 MiB.
   */
  maxBufferedBytes: number;
  /** See `maxBufferedBytes`. Default 10 000 ms. */
  slowConsumerMs: number;
  /**
   * How long one reducer call may run. Reducers run on the process's only
   * JavaScript thread, so while one runs every document of the process
   * waits; JavaScript cannot stop it. A call that ran longer is logged (a
   * warning with the document, client, reducer and duration) and the
   * client is paused on that document: its mutations there are rejected
   * with `reducer_too_slow`, without running, for `reducerPauseMs`. A call
   * that ran longer only because the process got no CPU (a busy machine) is
   * logged at info level and pauses no one. Default 1000 ms.
   */
  reducerTimeMs: number;
  /** See `reducerTimeMs`. Default 60 000 ms. */
  reducerPauseMs: number;
  /**
   * The largest presence state (its JSON text, in UTF-8 bytes) a client may
   * set. A larger one is not relayed: its sender gets `presence_too_large`
   * and the others keep seeing its previous state. Default 2048.
   */
  maxPresenceBytes: number;
  /**
   * Presence updates one connection may send per second (each state in a
   * frame counts; up to a second's worth may come at once). Over it, updates
   * are dropped and the sender gets `presence_too_fast`, once per run. A
   * client sends at most 20 per second per key, so the default leaves room
   * for five busy tabs sharing a connection. Default 100.
   */
  maxPresenceUpdatesPerSecond: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxQueuedMutations: 1000,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxPagesInFlight: 1024,
  maxConnectionsPerClient: 4,
  maxBufferedBytes: 32 * 1024 * 1024,
  slowConsumerMs: 10_000,
  reducerTimeMs: 1000,
  reducerPauseMs: 60_000,
  maxPresenceBytes: 2048,
  maxPresenceUpdatesPerSecond: 100,
});

/** The defaults, overridden by `limits`; throws `invalid_limit` for anything but a positive integer (or Infinity). */
export function resolveLimits(limits: Partial<ServerLimits> = {}): ServerLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(limits) as [keyof ServerLimits, unknown][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_LIMITS)) {
      throw new QuireError('invalid_limit', `unknown limit "${name}" — the limits are ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    }
    if (typeof value !== 'number' || !(value === Infinity || (Number.isSafeInteger(value) && value > 0))) {
      throw new QuireError('invalid_limit', `limits.${name} is ${String(value)} — use a positive integer, or Infinity for no limit`);
    }
    out[name] = value;
  }
  return out;
}
