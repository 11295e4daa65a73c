/** @quire/react — React bindings for Quire. */
export { QuireProvider, useQuireClient } from './quire-provider.js';
export type { QuireProviderProps } from './quire-provider.js';
export { useQuery } from './use-query.js';
export type { QueryOptions } from './use-query.js';
export type { LiveQueryOptions, QueryState, QueryStatus } from './query-state.js';
export { useSuspenseQuery } from './use-suspense-query.js';
export type { SuspenseQueryState } from './use-suspense-query.js';
export { useMutate } from './use-mutate.js';
export { useSyncStatus } from './use-sync-status.js';
export type { SyncStatusState } from './use-sync-status.js';
export { useInspection } from './use-inspection.js';
export { useOthers } from './use-others.js';
export { useMyPresence } from './use-my-presence.js';
export type { PresenceUpdate } from './use-my-presence.js';
