/**
 * The wire protocol between a Quire client and the sync server: binary
 * frames, one per WebSocket message. See docs/PROTOCOL.md for the byte layout.
 */
export { decodeClientMessage, decodeServerMessage, encodeMessage, encodeServerFrame } from './codec.js';
export { ID_RULE, SERVER_CLIENT_ID, isValidClientId, isValidDocId } from './identifiers.js';
export { isJsonText } from './json-text.js';
export { MAX_PRESENCE_KEY, MESSAGE_SCHEMAS, PROTOCOL_VERSION } from './messages.js';
export { encodePushFrames, type PushFrames } from './push-frames.js';
export { ArgKeys } from './reducer-args.js';
export { ReducerNames } from './reducer-names.js';
export type { Deflate } from './frame-compression.js';
export type {
  ClientMessage,
  CommitMessage,
  DurableMessage,
  ErrorMessage,
  GetPagesMessage,
  HelloMessage,
  Message,
  Mutation,
  PageChange,
  PageImage,
  PagesMessage,
  PresenceMessage,
  PushMessage,
  Rejection,
  RejectionsMessage,
  ServerMessage,
  SetPresenceMessage,
  SnapshotMessage,
  WelcomeMessage,
  WirePresencePeer,
  WirePresenceState,
} from './messages.js';
