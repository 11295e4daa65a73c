import { Inflate, deflateSync } from 'fflate';
import { ProtocolError } from '../errors.js';

/**
 * The first byte of a deflated frame; no message uses tag 0. The rest is a
 * raw DEFLATE stream of one ordinary frame. Only the server sends them: a
 * client never makes the server inflate what it sent.
 */
export const DEFLATED_TAG = 0;

// Below this, deflate saves a few bytes (a commit of one small change is
// ~115 bytes, ~95 deflated) for ~50 us of CPU on each side, on the path
// from one user's edit to another's screen.
const MIN_BYTES = 512;
// Large frames are snapshots and page answers, where a cold load waits on
// the CPU time: the fastest level keeps most of the gain.
const LARGE_BYTES = 64 * 1024;

/** Raw DEFLATE at a zlib level (1 fastest … 9 smallest). */
export type Deflate = (data: Uint8Array, level: 1 | 6) => Uint8Array;

const fflateDeflate: Deflate = (data, level) => deflateSync(data, { level });

/**
 * The frame deflated when that makes it smaller, else the frame itself.
 * Servers pass node:zlib, several times faster than the portable default.
 */
export function compressFrame(frame: Uint8Array, deflate: Deflate = fflateDeflate): Uint8Array {
  if (frame.length < MIN_BYTES) return frame;
  const body = deflate(frame, frame.length >= LARGE_BYTES ? 1 : 6);
  if (body.length + 1 >= frame.length) return frame;
  const out = new Uint8Array(body.length + 1);
  out[0] = DEFLATED_TAG;
  out.set(body, 1);
  return out;
}

/** Inflates a deflated frame, refusing to produce more than `maxBytes`. */
export function inflateFrame(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const inflate = new Inflate((chunk) => {
    size += chunk.length;
    if (size > maxBytes) throw new ProtocolError('message_too_large', `a deflated frame inflates past the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  });
  try {
    inflate.push(bytes.subarray(1), true);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('malformed_frame', `a deflated frame does not inflate: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
