import { encodeMessage } from './codec.js';
import type { Mutation } from './messages.js';
import { packArgs } from './reducer-args.js';
import { ReducerNames } from './reducer-names.js';
import { utf8Length, varuintSize } from './writer.js';

// Tag, version and the array length (at most a 5-byte varuint for any real count).
const PUSH_OVERHEAD = 2 + 5;

export interface PushFrames {
  /** Push frames, in seq order, each at most `maxBytes` long. */
  frames: Uint8Array[];
  /** The first mutation that cannot fit any frame; it and later ones are not in `frames`. */
  oversized?: Mutation;
}

/**
 * Encodes mutations as push frames that each stay within the server's
 * `maxMessageBytes`, so a backlog built up offline is sent in pieces rather
 * than refused whole. `names` is the connection's: the frames must be sent,
 * in order, on it.
 */
export function encodePushFrames(mutations: readonly Mutation[], maxBytes: number, names = new ReducerNames()): PushFrames {
  const frames: Uint8Array[] = [];
  let batch: Mutation[] = [];
  let batchBytes = PUSH_OVERHEAD;
  for (const m of mutations) {
    const size = mutationSize(m, names.peek(m.name));
    if (PUSH_OVERHEAD + size > maxBytes) {
      if (batch.length > 0) frames.push(encodeMessage({ type: 'push', mutations: batch }));
      return { frames, oversized: m };
    }
    if (batchBytes + size > maxBytes) {
      frames.push(encodeMessage({ type: 'push', mutations: batch }));
      batch = [];
      batchBytes = PUSH_OVERHEAD;
    }
    batch.push({ ...m, name: names.pack(m.name) });
    batchBytes += size;
  }
  if (batch.length > 0) frames.push(encodeMessage({ type: 'push', mutations: batch }));
  return { frames };
}

function mutationSize(m: Mutation, wireName: string): number {
  const name = utf8Length(wireName);
  const args = utf8Length(packArgs(m.args));
  return varuintSize(m.seq) + varuintSize(name) + name + varuintSize(args) + args;
}
