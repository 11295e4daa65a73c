import { useCallback, useMemo, useSyncExternalStore } from 'react';
import type { Json, Reducers } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/** What {@link useMyPresence}'s setter takes: the next state, null to clear it, or a function of the current one. */
export type PresenceUpdate<P> = P | null | ((current: P | null) => P | null);

/**
 * This client's presence state and its setter, like `useState`
 * (`client.presence.mine()` and `set`): the state shows at once here, and
 * goes to the others throttled (latest wins). `setState` keeps its identity.
 *
 * @example
 * const [me, setMe] = useMyPresence<Me>();
 * <input onFocus={() => setMe((m) => m && { ...m, editing: todo.id })} onBlur={() => setMe((m) => m && { ...m, editing: null })} />
 */
export function useMyPresence<P = Json>(): readonly [P | null, (update: PresenceUpdate<P>) => void] {
  const presence = useQuireClient<Reducers, P>().presence;
  const subscribe = useCallback((notify: () => void) => presence.subscribe(notify), [presence]);
  const mine = useCallback(() => presence.mine(), [presence]);
  const state = useSyncExternalStore(subscribe, mine, mine);
  const setState = useCallback(
    (update: PresenceUpdate<P>) => presence.set(typeof update === 'function' ? (update as (current: P | null) => P | null)(presence.mine()) : update),
    [presence],
  );
  return useMemo(() => [state, setState] as const, [state, setState]);
}
