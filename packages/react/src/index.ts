/** @quire/react — React bindings for Quire. */
export { QuireProvider, useQuireClient } from './quire-provider.js';
export { useQuery } from './use-query.js';
export type { QueryState } from './use-query.js';
export { useMutate } from './use-mutate.js';
export { useSyncStatus } from './use-sync-status.js';
