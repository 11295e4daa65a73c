import { QuireError } from '../errors.js';
import { MAX_PRESENCE_KEY, type PresenceMessage, type WirePresenceState } from '../protocol/index.js';
import type { PresencePeer } from './presence.js';

/** The fewest milliseconds between two `setPresence` frames of one connection. */
export const PRESENCE_INTERVAL_MS = 50;

export interface PresenceLink {
  /** This client's id now (a stored replica's id is known once it loaded). */
  clientId(): string;
  /** Sends the states if the connection is welcomed; false otherwise (they go again on the next welcome). */
  send(states: WirePresenceState[]): boolean;
}

/**
 * The presence states of one connection, under small keys (0..63), and
 * everyone's as the server relays them. The Node client uses key 0
 * (`client.presence`); a browser engine host, whose tabs share one
 * connection, sets one key per tab:
 *
 *   const hub = presenceHubOf(client);        // from @quire/core/internal
 *   hub.set(tabKey, state);                    // or null when the tab leaves
 *   hub.subscribe(() => post(tab, hub.othersOf(tabKey)));
 *
 * `othersOf(key)` is everyone but this client's own `key`: the same client's
 * other keys (the profile's other tabs) count as others. Only states the
 * server relayed are shown, so while not connected there are none.
 */
export class PresenceHub {
  // This connection's states by key, as JSON text (null: cleared, not yet sent).
  private readonly own = new Map<number, string | null>();
  private readonly dirty = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSent = -Infinity;
  private connected = false;
  // Everyone's states (this client's included) by id, as relayed: JSON text,
  // parsed when a view first shows it (a client that never looks parses nothing).
  private readonly board = new Map<string, Relayed>();
  // othersOf's answers since the board last changed, by key: the same array until it changes.
  private readonly views = new Map<number, readonly PresencePeer<unknown>[]>();
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly link: PresenceLink) {}

  /** Sets (or, with null, clears) this connection's state under `key`; throws `invalid_presence` if JSON cannot carry it. */
  set(key: number, state: unknown): void {
    if (!Number.isInteger(key) || key < 0 || key > MAX_PRESENCE_KEY) throw new RangeError(`presence key ${key} is not an integer in 0..${MAX_PRESENCE_KEY}`);
    const json = state === null ? null : toJson(state);
    if (this.closed) return;
    // Nothing new to tell (no state to clear, or the same JSON again): nothing to send.
    if (json === null ? !this.own.has(key) : this.own.get(key) === json) return;
    this.own.set(key, json);
    this.dirty.add(key);
    this.schedule();
  }

  /** Everyone with a state but this client's own `key`, ordered by id. */
  othersOf(key: number): readonly PresencePeer<unknown>[] {
    let view = this.views.get(key);
    if (!view) {
      const self = this.link.clientId();
      const peers: PresencePeer<unknown>[] = [];
      for (const relayed of this.board.values()) {
        if (relayed.clientId === self && relayed.key === key) continue;
        const peer = shown(relayed);
        if (peer) peers.push(peer);
      }
      view = peers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.views.set(key, view);
    }
    return view;
  }

  /** Calls `listener` whenever the relayed states change. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** The server welcomed a connection: it knows none of this client's states, so all go again. */
  welcomed(): void {
    this.connected = true;
    this.dirty.clear();
    for (const [key, json] of this.own) {
      if (json === null) this.own.delete(key);
      else this.dirty.add(key);
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** The connection is gone: the others' states are not known any more. */
  disconnected(): void {
    this.connected = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.board.size === 0) return;
    this.board.clear();
    this.changed();
  }

  /** A `presence` frame: every state (`full`), or what changed since the last one (state "" is gone). */
  receive(message: PresenceMessage): void {
    if (message.full) this.board.clear();
    for (const { clientId, key, userId, state } of message.peers) {
      const id = `${clientId}:${key}`;
      if (state === '') {
        this.board.delete(id);
        continue;
      }
      const known = this.board.get(id);
      // A peer that moves its cursor sends 20 states a second: update in place (views hold `peer`, not this).
      if (known && known.userId === userId) {
        known.json = state;
        known.peer = undefined;
      } else this.board.set(id, { id, clientId, key, userId, json: state, peer: undefined });
    }
    this.changed();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  // Leading edge at once, then at most one frame per PRESENCE_INTERVAL_MS with the latest states.
  private schedule(): void {
    if (!this.connected || this.timer) return;
    const wait = this.lastSent + PRESENCE_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.dirty.size === 0) return;
    const states: WirePresenceState[] = [];
    for (const key of this.dirty) states.push({ key, state: this.own.get(key) ?? '' });
    if (!this.link.send(states)) return;
    this.lastSent = Date.now();
    this.dirty.clear();
    for (const [key, json] of this.own) if (json === null) this.own.delete(key);
  }

  private changed(): void {
    this.views.clear();
    for (const listener of [...this.listeners]) listener();
  }
}

interface Relayed {
  readonly id: string;
  readonly clientId: string;
  readonly key: number;
  /** "" without one. */
  readonly userId: string;
  json: string;
  /** Once parsed; null if the text is not JSON (the server checks, so never: skipped, not fatal). */
  peer: PresencePeer<unknown> | null | undefined;
}

function shown(relayed: Relayed): PresencePeer<unknown> | null {
  if (relayed.peer !== undefined) return relayed.peer;
  const { id, clientId, userId } = relayed;
  try {
    const state: unknown = JSON.parse(relayed.json);
    relayed.peer = userId === '' ? { id, clientId, state } : { id, clientId, userId, state };
  } catch {
    relayed.peer = null;
  }
  return relayed.peer;
}

/** The JSON text of a presence state; throws `invalid_presence` for a value JSON cannot carry. */
export function toJson(state: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(state, refuseLossy);
  } catch (error) {
    throw new QuireError('invalid_presence', `a presence state must be JSON: ${error instanceof Error ? error.message : String(error)} — use plain objects, arrays, strings, numbers, booleans and null`);
  }
  if (json === undefined) throw new QuireError('invalid_presence', `a presence state must be JSON, got ${typeof state} — use plain objects, arrays, strings, numbers, booleans and null (or null to clear it)`);
  return json;
}

/**
 * `JSON.stringify` would drop a function or symbol, turn a `Map`, a `Set` or
 * a class instance into `{}` and NaN into null: the others would get a state
 * other than the one set, so refuse it where the caller can see why. A
 * `Date` goes as its ISO string (its own `toJSON`), as documented.
 */
function refuseLossy(this: unknown, key: string, value: unknown): unknown {
  const where = key === '' ? 'the state' : `"${key}"`;
  if (typeof value === 'function' || typeof value === 'symbol') throw new TypeError(`${where} is a ${typeof value}`);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${where} is ${value}`);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`${where} is a ${proto.constructor?.name ?? 'class instance'}, which JSON carries as {}`);
  }
  return value;
}
