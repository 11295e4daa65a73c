/**
 * The Node entry of @quire/core: the same API, with `ws` as the default
 * WebSocket (Node 20 has no global one).
 */
import WebSocket from 'ws';
import { createClient as createClientWith, type ClientOptions, type QuireClient } from './client/client.js';
import type { WebSocketConstructor } from './client/connection.js';
import type { Json } from './client/presence.js';
import type { Reducers } from './reducers/define-reducers.js';

export {
  defineApp,
  defineReducers,
  validated,
  MutationRejectedError,
  ProtocolError,
  QuireError,
  QUIRE_ERROR_CODES,
  PROTOCOL_VERSION,
} from './index.js';
export type * from './index.js';
export type { BaseChange, ReplicaStore, StoredMutation, StoredReplica } from './store/replica-store.js';
export { FileStore } from './store/file-store.js';

/** See {@link createClientWith | createClient}; defaults `WebSocket` to the `ws` package. */
export function createClient<R extends Reducers, P = Json>(options: ClientOptions<R, P>): QuireClient<R, P> {
  return createClientWith<R, P>({ WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
}
