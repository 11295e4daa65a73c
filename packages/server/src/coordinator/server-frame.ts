import { constants, deflateRawSync } from 'node:zlib';
import { PageEncoding } from '@quire/core/internal';
import { type Deflate, type ServerMessage, encodeServerFrame } from '@quire/core/protocol';

// node:zlib is native and several times faster than the portable deflate;
// clients inflate its raw DEFLATE output all the same.
const deflate: Deflate = (data, level) => deflateRawSync(data, { level });
// A commit of deltas only is mostly zeros (XOR) with changed bytes strewn
// about: run-length coding makes it as small as LZ77 does, 2-3 times faster.
const deflateDeltas: Deflate = (data, level) => deflateRawSync(data, { level, strategy: constants.Z_RLE });

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
  const deltas = message.type === 'commit' && message.pages.every((page) => page.encoding !== PageEncoding.image);
  return { type: message.type, bytes: encodeServerFrame(message, deltas ? deflateDeltas : deflate) };
}
