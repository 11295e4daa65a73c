import type { PresencePeer } from './presence.js';

type Listener<P> = (others: readonly PresencePeer<P>[]) => void;

/** The subscribers of one `client.presence` (the Node client's and a browser tab's). */
export class PresenceListeners<P> {
  private readonly listeners = new Set<Listener<P>>();

  get size(): number {
    return this.listeners.size;
  }

  // An arrow property: it works detached (`useSyncExternalStore(presence.subscribe, presence.others)`).
  readonly subscribe = (listener: Listener<P>): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  notify(others: readonly PresencePeer<P>[]): void {
    // A copy: a listener may unsubscribe (or subscribe another) while we go.
    for (const listener of [...this.listeners]) listener(others);
  }

  clear(): void {
    this.listeners.clear();
  }
}
