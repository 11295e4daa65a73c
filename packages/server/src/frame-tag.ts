import { constants, inflateRawSync } from 'node:zlib';

// A deflated frame's first block header fits in this much; inflating a
// prefix with a sync flush gives the first bytes without the whole frame.
const PEEK_BYTES = 256;

/**
 * The message tag of a frame the server encoded, looking inside a deflated
 * frame (tag 0) when needed; undefined for an empty or unreadable frame.
 */
export function serverFrameTag(frame: Uint8Array): number | undefined {
  if (frame.length === 0) return undefined;
  if (frame[0] !== 0) return frame[0];
  try {
    const head = inflateRawSync(frame.subarray(1, 1 + PEEK_BYTES), { finishFlush: constants.Z_SYNC_FLUSH });
    if (head.length > 0) return head[0];
    return inflateRawSync(frame.subarray(1))[0];
  } catch {
    return undefined;
  }
}
