import { toJson } from '../client/presence-hub.js';
import type { Presence, PresencePeer } from '../client/presence.js';
import { PresenceListeners } from '../client/presence-listeners.js';

/**
 * A tab's `client.presence` in the browser. The tab's state lives in the
 * engine host under a key of its own on the shared connection (see
 * `PresenceHub`); the host sends the tab everyone else's, the profile's
 * other tabs included, whenever they change. When the tab closes (or its
 * port does), the host clears its state.
 */
export class TabPresence<P> implements Presence<P> {
  private state: P | null = null;
  private peers: readonly PresencePeer<P>[] = [];
  private readonly listeners = new PresenceListeners<P>();
  private closed = false;

  /** `send(state)` posts the tab's state to the engine host. */
  constructor(private readonly send: (state: P | null) => void) {}

  // Arrow properties: they work detached (`useSyncExternalStore(presence.subscribe, presence.others)`).
  readonly set = (state: P | null): void => {
    // Checked here, where the caller can catch it, not in the worker.
    if (state !== null) toJson(state);
    if (this.closed) return;
    this.state = state;
    this.send(state);
    this.notify();
  };

  readonly mine = (): P | null => this.state;

  readonly others = (): readonly PresencePeer<P>[] => this.peers;

  readonly subscribe = this.listeners.subscribe;

  /** The engine host's view of the others changed. */
  received(others: readonly PresencePeer<P>[]): void {
    this.peers = others;
    this.notify();
  }

  /** A new engine (the leader tab changed): it knows nothing of this tab's state yet. */
  reopened(): void {
    if (this.state !== null) this.send(this.state);
  }

  /** The tab's client closed or failed: nothing more is sent or heard. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.peers = [];
  }

  private notify(): void {
    this.listeners.notify(this.peers);
  }
}
