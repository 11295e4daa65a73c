import { useSyncExternalStore } from 'react';
import type { SyncStatus } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/** The client's connection state, pending count and LSN. */
export function useSyncStatus(): SyncStatus {
  const client = useQuireClient();
  return useSyncExternalStore(
    (notify) => client.subscribeStatus(notify),
    () => client.status(),
    () => client.status(),
  );
}
