import { encodeMessage } from './codec.js';
import type { Mutation } from './messages.js';
import { ArgKeys, packArgsWith } from './reducer-args.js';
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
 * than refused whole. `names` and `keys` are the connection's: the frames
 * must be sent, in order, on it.
 */
export function encodePushFrames(mutations: readonly Mutation[], maxBytes: number, names = new ReducerNames(), keys = new ArgKeys()): PushFrames {
  const frames: Uint8Array[] = [];
  let batch: Mutation[] = [];
  let batchBytes = PUSH_OVERHEAD;
  // The keys as the frames made so far leave them: each mutation is sized as it will be sent.
  const sized = Object.assign(new ArgKeys(), keys);
  const flush = () => frames.push(encodeMessage({ type: 'push', mutations: batch }, keys));
  for (const m of mutations) {
    const size = mutationSize(m, names.peek(m.name), sized);
    if (PUSH_OVERHEAD + size > maxBytes) {
      if (batch.length > 0) flush();
      return { frames, oversized: m };
    }
    if (batchBytes + size > maxBytes) {
      flush();
      batch = [];
      batchBytes = PUSH_OVERHEAD;
    }
    batch.push({ ...m, name: names.pack(m.name) });
    batchBytes += size;
  }
  if (batch.length > 0) flush();
  return { frames };
}

function mutationSize(m: Mutation, wireName: string, keys: ArgKeys): number {
  const name = utf8Length(wireName);
  const args = packArgsWith(m.args, keys).length;
  return varuintSize(m.seq) + varuintSize(name) + name + varuintSize(args) + args;
}
