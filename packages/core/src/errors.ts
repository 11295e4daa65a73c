/**
 * Every code Quire itself raises, on the client, on the server and on the
 * wire. docs/ERRORS.md says what each means and what to do; errors.test.ts
 * keeps the list, the docs and the code in step.
 */
export const QUIRE_ERROR_CODES = [
  // protocol
  'malformed_frame',
  'unknown_message',
  'unsupported_version',
  'message_too_large',
  'unexpected_message',
  // mutations
  'unknown_reducer',
  'invalid_args',
  'invalid_reducer',
  'reducer_error',
  'transaction_control',
  'async_reducer',
  'invalid_error_code',
  'seq_gap',
  'mutation_too_large',
  'reducer_too_slow',
  'outcome_unknown',
  // app versions and migrations
  'update_required',
  'server_outdated',
  'migration_failed',
  'schema_too_new',
  // connections
  'unauthorized',
  'invalid_doc_id',
  'invalid_client_id',
  'client_id_taken',
  'too_many_connections',
  'slow_consumer',
  'handshake_timeout',
  'connect_failed',
  'server_unreachable',
  'server_error',
  'document_unavailable',
  'document_moved',
  'server_closed',
  'client_closed',
  'no_websocket',
  // presence
  'invalid_presence',
  'presence_too_large',
  'presence_too_fast',
  // queries
  'read_only_query',
  'multiple_statements',
  // partial replicas
  'missing_pages',
  'offline_missing_pages',
  'replica_failed',
  // client stores
  'store_closed',
  'store_corrupt',
  'store_failed',
  'store_format',
  'store_in_use',
  'store_not_initialized',
  'store_unavailable',
  'no_indexeddb',
  // browser
  'engine_restarted',
  'engine_superseded',
  'no_worker',
  'not_open',
  'not_supported',
  'worker_failed',
  'no_provider',
  // server
  'bad_page_size',
  'corrupt_log',
  'corrupt_volume',
  'document_locked',
  'internal',
  'invalid_limit',
  'lease_corrupt',
  'log_closed',
  'log_compacted',
  'log_fenced',
  'log_field_too_large',
  'lsn_gap',
  'reducers_not_found',
  'reducers_file_type',
  // backup and restore (the CLI)
  'backup_invalid',
  'log_in_bucket',
  'path_not_found',
  'target_not_empty',
  // object storage (the S3 commit log)
  'storage_denied',
  'storage_error',
  'storage_not_found',
  'storage_unreachable',
] as const;

/** A code Quire raises; see docs/ERRORS.md. */
export type QuireErrorCode = (typeof QUIRE_ERROR_CODES)[number];

/**
 * Every error Quire raises on purpose is a `QuireError` with a stable `code`
 * that callers can match on. Messages end with what the user should do.
 *
 * Reducers may throw a `QuireError` with a code of their own (say
 * `insufficient_funds`): the caller gets it as `MutationRejectedError.code`.
 */
export class QuireError extends Error {
  readonly code: QuireErrorCode | AppErrorCode;

  constructor(code: QuireErrorCode | AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuireError';
    this.code = code;
  }
}

/** A code of the app's own, thrown by its reducers. Quire's codes still autocomplete. */
export type AppErrorCode = string & {};

/** Bytes from the network that do not decode, or a peer that breaks the protocol. */
export class ProtocolError extends QuireError {
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProtocolError';
  }
}

export type ProtocolErrorCode = Extract<
  QuireErrorCode,
  'malformed_frame' | 'unknown_message' | 'unsupported_version' | 'message_too_large' | 'unexpected_message'
>;

/** The server refused a mutation: the reducer threw, or the call was invalid. */
export class MutationRejectedError extends QuireError {
  readonly reducer: string;
  readonly seq: number;

  constructor(code: QuireErrorCode | AppErrorCode, message: string, reducer: string, seq: number) {
    super(code, message);
    this.name = 'MutationRejectedError';
    this.reducer = reducer;
    this.seq = seq;
  }
}
