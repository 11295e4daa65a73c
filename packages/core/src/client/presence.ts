/**
 * Presence: who else is on a document and what they are doing (a name, a
 * colour, a cursor, the item being edited). Ephemeral: relayed by the
 * server that coordinates the document, never written to its log or to any
 * replica. See docs/PRESENCE.md.
 */

/** A JSON value: what a presence state is made of by default. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Another client's (or another tab's) state on the document. */
export interface PresencePeer<P = Json> {
  /** Stable while that client (or tab) stays: `clientId:key`. Use it as a React key. */
  readonly id: string;
  readonly clientId: string;
  /** The user its connection was authorized as (`authorize` on the server); undefined without one. */
  readonly userId?: string;
  /** Its state as it last set it (parsed JSON: treat it as read-only). */
  readonly state: P;
}

/**
 * This client's presence on its document (`client.presence`), and everyone
 * else's. `P` is the state's type: it must survive `JSON.stringify` (plain
 * objects, arrays, strings, finite numbers, booleans, null).
 *
 * @example
 * interface Me { name: string; colour: string; editing: string | null }
 * const client = createClient({ url, docId, reducers, presence: { name: 'Ann', colour: '#e11', editing: null } as Me });
 * client.presence.subscribe((others) => render(others.map((o) => o.state.name)));
 * client.presence.set({ ...client.presence.mine()!, editing: todoId });
 */
export interface Presence<P = Json> {
  /**
   * Sets this client's state; `null` clears it. It shows at once in
   * `mine()` and goes to the server at most every 50 ms (latest wins), and
   * again after every reconnect. Throws `invalid_presence` for a value JSON
   * cannot carry. The server refuses a state over its size limit or updates
   * too fast (`presence_too_large`, `presence_too_fast` in `status().lastError`):
   * the others then keep seeing the previous state.
   */
  set(state: P | null): void;
  /** This client's own state as last set (the same object), or null. */
  mine(): P | null;
  /**
   * Everyone else on the document with a state, ordered by `id`; never this
   * client itself. The same array until something changes. Empty while not
   * connected: the states are not known then.
   */
  others(): readonly PresencePeer<P>[];
  /** Calls `listener` whenever `others()` or `mine()` changes. Returns the unsubscribe function. */
  subscribe(listener: (others: readonly PresencePeer<P>[]) => void): () => void;
}
