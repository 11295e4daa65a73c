/**
 * Every error Quire raises on purpose is a `QuireError` with a stable `code`
 * that callers can match on. Messages end with what the user should do.
 */
export class QuireError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuireError';
    this.code = code;
  }
}

/** Bytes from the network that do not decode, or a peer that breaks the protocol. */
export class ProtocolError extends QuireError {
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProtocolError';
  }
}

export type ProtocolErrorCode =
  | 'malformed_frame'
  | 'unknown_message'
  | 'unsupported_version'
  | 'message_too_large'
  | 'unexpected_message';

/** The server refused a mutation: the reducer threw, or the call was invalid. */
export class MutationRejectedError extends QuireError {
  readonly reducer: string;
  readonly seq: number;

  constructor(code: string, message: string, reducer: string, seq: number) {
    super(code, message);
    this.name = 'MutationRejectedError';
    this.reducer = reducer;
    this.seq = seq;
  }
}
