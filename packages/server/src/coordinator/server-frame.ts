import { deflateRawSync } from 'node:zlib';
import { type Deflate, type ServerMessage, encodeServerFrame } from '@quire/core/protocol';

// node:zlib is native and several times faster than the portable deflate;
// clients inflate its raw DEFLATE output all the same.
const deflate: Deflate = (data, level) => deflateRawSync(data, { level });

/**
 * A server message as it goes on the wire, with its type: a deflated frame
 * hides its tag, and a connection needs the type (it counts page answers).
 */
export interface ServerFrame {
  readonly type: ServerMessage['type'];
  readonly bytes: Uint8Array;
}

/** Encodes a server message (deflated when that makes it smaller). */
export function serverFrame(message: ServerMessage): ServerFrame {
  return { type: message.type, bytes: encodeServerFrame(message, deflate) };
}
