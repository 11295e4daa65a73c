import { deflateRawSync } from 'node:zlib';
import { type Deflate, type ServerMessage, encodeServerFrame } from '@quire/core/protocol';

// node:zlib is native and several times faster than the portable deflate;
// clients inflate its raw DEFLATE output all the same.
const deflate: Deflate = (data, level) => deflateRawSync(data, { level });

/** A server message as it goes on the wire (deflated when that makes it smaller). */
export function serverFrame(message: ServerMessage): Uint8Array {
  return encodeServerFrame(message, deflate);
}
