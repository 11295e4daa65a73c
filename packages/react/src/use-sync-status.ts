import { useCallback, useMemo, useSyncExternalStore } from 'react';
import type { SyncStatus } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/** What {@link useSyncStatus} returns: the client's {@link SyncStatus} plus two controls. */
export interface SyncStatusState extends SyncStatus {
  /** Drops the sync connection (`client.disconnect()`); mutations keep applying locally and queue up. */
  readonly goOffline: () => void;
  /** Reconnects (`client.connect()`); queued mutations are sent. */
  readonly goOnline: () => void;
}

/**
 * The sync state of the client in context: `connection` (`connecting`,
 * `connected`, `update_required`, `waiting_for_server`, `offline`,
 * `unauthorized` or `closed`), the number of `pending` mutations, the `lsn`
 * the replica shows, the `durableLsn` of its durable base, the `lastError`
 * and the `appVersion`s of this client and of the server. Re-renders only
 * when one of them changes; `goOffline` and `goOnline` keep their identity.
 *
 * `update_required`: the server runs a newer app version. The client syncs
 * as usual, but calls of reducers the new version dropped are refused; ask
 * the user to reload. `waiting_for_server`: the server runs an older
 * version; changes are kept and sent once a server of this version answers.
 *
 * @example
 * const { connection, pending, goOffline, goOnline } = useSyncStatus();
 * return <button onClick={connection === 'offline' ? goOnline : goOffline}>{connection} ({pending} pending)</button>;
 */
export function useSyncStatus(): SyncStatusState {
  const client = useQuireClient();
  const subscribe = useCallback((notify: () => void) => client.subscribeStatus(notify), [client]);
  const getStatus = useCallback(() => client.status(), [client]);
  const status = useSyncExternalStore(subscribe, getStatus, getStatus);
  const goOffline = useCallback(() => client.disconnect(), [client]);
  const goOnline = useCallback(() => client.connect(), [client]);
  return useMemo(() => ({ ...status, goOffline, goOnline }), [status, goOffline, goOnline]);
}
