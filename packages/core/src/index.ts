/**
 * @quire/core — reducers, the client engine and the wire protocol.
 * Exports are listed by name; everything else is internal.
 */
export { createClient } from './client/client.js';
export type { ClientOptions, QuireClient } from './client/client.js';
export type { WebSocketConstructor, WebSocketLike } from './client/connection.js';
export type { MutateApi, MutationHandle } from './client/mutation-handle.js';
export type { Json, Presence, PresencePeer } from './client/presence.js';
export type { AppVersions, ConnectionState, SyncStatus } from './client/sync-status.js';
export type { BackoffOptions } from './client/backoff.js';
export type { ErrorListener, QueryListener } from './engine/subscriptions.js';
export type { QueryStats } from './engine/engine.js';
export type { HydrateProgress } from './client/client.js';
export type { ClientInspection, ErrorSource, InspectedError, InspectedMutation, MutationState } from './client/inspection.js';
export { defineReducers, validated } from './reducers/define-reducers.js';
export { defineApp } from './reducers/define-app.js';
export type { App, AppDefinition, Migration } from './reducers/define-app.js';
export type {
  AnyReducerDefinition,
  ReducerArgs,
  ReducerDefinition,
  ReducerFn,
  ReducerResult,
  Reducers,
  ValidatedReducer,
} from './reducers/define-reducers.js';
export type { ReducerContext, Row, SqlParam, SqlParams, SqlValue, Tx } from './reducers/tx.js';
export { MutationRejectedError, ProtocolError, QUIRE_ERROR_CODES, QuireError } from './errors.js';
export type { AppErrorCode, ProtocolErrorCode, QuireErrorCode } from './errors.js';
export { PROTOCOL_VERSION } from './protocol/index.js';
