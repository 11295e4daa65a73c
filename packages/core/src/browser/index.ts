/**
 * @quire/core/browser — the engine in a worker, shared by the tabs of one
 * browser profile, persisted in IndexedDB.
 *
 * The page calls {@link createBrowserClient}; the app's worker script calls
 * {@link runQuireWorker} with the same reducers.
 */
export { createBrowserClient } from './browser-client.js';
export type { BrowserClientOptions } from './browser-client.js';
export { runQuireWorker } from './engine-host.js';
export type { EngineHostOptions } from './engine-host.js';
export { IndexedDbStore } from '../store/indexeddb-store.js';
export type { BaseChange, ReplicaStore, StoredMutation, StoredReplica } from '../store/replica-store.js';
