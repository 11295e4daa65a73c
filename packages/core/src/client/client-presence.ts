import type { Presence, PresencePeer } from './presence.js';
import type { PresenceHub } from './presence-hub.js';
import { PresenceListeners } from './presence-listeners.js';

/** `client.presence`: the state under one key of the hub (the Node client's is key 0), typed. */
export class ClientPresence<P> implements Presence<P> {
  private state: P | null = null;
  private readonly listeners = new PresenceListeners<P>();

  constructor(
    private readonly hub: PresenceHub,
    private readonly key: number,
  ) {
    hub.subscribe(() => this.notify());
  }

  // Arrow properties: they work detached (`useSyncExternalStore(presence.subscribe, presence.others)`).
  readonly set = (state: P | null): void => {
    this.hub.set(this.key, state);
    this.state = state;
    this.notify();
  };

  readonly mine = (): P | null => this.state;

  readonly others = (): readonly PresencePeer<P>[] => this.hub.othersOf(this.key) as readonly PresencePeer<P>[];

  readonly subscribe = this.listeners.subscribe;

  private notify(): void {
    // Nobody listening: the view is not even built (nor the states parsed).
    if (this.listeners.size === 0) return;
    this.listeners.notify(this.others());
  }
}
