/**
 * Pieces that @quire/server shares with the client engine. Not a public API:
 * no semver promise, and apps should not import it.
 */
export { encodeArgs, decodeArgs } from './reducers/args-codec.js';
export { prepareCall, errorCode, errorMessage } from './reducers/invoke-reducer.js';
export type { PreparedCall } from './reducers/invoke-reducer.js';
export { CLIENTS_TABLE, CLIENTS_TABLE_DDL, PARITY_PRAGMAS, SCHEMA_TABLE, assertReducerSql } from './reducers/sql-dialect.js';
export { appVersionOf, migrationsOf } from './reducers/define-app.js';
export { assertReducersOption } from './reducers/define-reducers.js';
export { CallTx, reducerTx } from './reducers/reducer-tx.js';
export { bareParamName, isNamedParams, normalizeParam } from './reducers/sql-params.js';
export { PAGE_SIZE } from './page/page.js';
export { interiorChildren } from './page/btree-page.js';
export { PageEncoding, encodePageChange, siblingOf, siblingSources } from './page/page-delta.js';
export type { PageImage } from './page/page.js';
export { ReplicaDb } from './replica/replica-db.js';
export { Engine } from './engine/engine.js';
export { connectClient } from './browser/browser-client.js';
export { EngineHost } from './browser/engine-host.js';
export type { PortLike } from './browser/rpc.js';
export { IndexedDbStore } from './store/indexeddb-store.js';
export { presenceHubOf } from './client/presence-hub-of.js';
export { PRESENCE_INTERVAL_MS, type PresenceHub } from './client/presence-hub.js';
