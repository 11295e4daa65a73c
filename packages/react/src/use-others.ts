import { useCallback, useSyncExternalStore } from 'react';
import type { Json, PresencePeer, Reducers } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/**
 * Everyone else on the document with a presence state (`client.presence.others()`),
 * ordered by `id`; never this client (or this tab) itself, and empty while
 * not connected. Re-renders only when they change. `P` is the state's type,
 * as the client was created with (see docs/PRESENCE.md).
 *
 * @example
 * const others = useOthers<Me>();
 * return others.map((o) => <Avatar key={o.id} name={o.state.name} colour={o.state.colour} />);
 */
export function useOthers<P = Json>(): readonly PresencePeer<P>[] {
  const presence = useQuireClient<Reducers, P>().presence;
  const subscribe = useCallback((notify: () => void) => presence.subscribe(notify), [presence]);
  const others = useCallback(() => presence.others(), [presence]);
  return useSyncExternalStore(subscribe, others, others);
}
