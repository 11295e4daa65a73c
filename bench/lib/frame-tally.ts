import { inflateRawSync } from 'node:zlib';

/** Names a WebSocket message from its payload (Quire tags, Yjs sync/awareness types). */
export type Classify = (payload: Buffer) => string;

const QUIRE_TAGS: Record<number, string> = {
  1: 'hello', 2: 'push', 3: 'getPages', 4: 'forget',
  16: 'welcome', 17: 'snapshot', 18: 'commit', 19: 'error', 20: 'pages', 21: 'rejections', 22: 'durable',
};

export const classifyQuire: Classify = (payload) => {
  if (payload[0] === 0) {
    try {
      return `${QUIRE_TAGS[inflateRawSync(payload.subarray(1))[0]!] ?? '?'} (deflated)`;
    } catch {
      return 'deflated?';
    }
  }
  return QUIRE_TAGS[payload[0]!] ?? `tag ${payload[0]}`;
};

export const classifyYjs: Classify = (payload) => {
  if (payload[0] === 0) return ['sync step1', 'sync step2', 'sync update'][payload[1]!] ?? 'sync ?';
  return payload[0] === 1 ? 'awareness' : `yjs type ${payload[0]}`;
};

/**
 * Splits one direction of one TCP stream into the HTTP upgrade and WebSocket
 * frames, and adds each frame's whole size (header, mask, payload) to a tally
 * under `<direction> <message>`. A bench aid, for the wire-bytes breakdown.
 */
export class FrameTally {
  readonly bytes = new Map<string, number>();
  readonly counts = new Map<string, number>();

  constructor(private readonly classify: Classify) {}

  stream(direction: 'up' | 'down'): (chunk: Buffer) => void {
    let pending = Buffer.alloc(0);
    let http = true;
    return (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (http) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          this.add(`${direction} http upgrade`, end + 4);
          pending = pending.subarray(end + 4);
          http = false;
          continue;
        }
        const frame = parseFrame(pending);
        if (!frame) return;
        const opcode = pending[0]! & 0x0f;
        const name = opcode === 8 ? 'close' : opcode === 9 ? 'ping' : opcode === 10 ? 'pong' : this.classify(frame.payload);
        this.add(`${direction} ${name}`, frame.size);
        pending = pending.subarray(frame.size);
      }
    };
  }

  reset(): void {
    this.bytes.clear();
    this.counts.clear();
  }

  /** Rows of bytes and frames per edit. */
  table(edits: number): Array<{ frame: string; frames: number; bytes: number }> {
    return [...this.bytes].sort(([a], [b]) => a.localeCompare(b)).map(([frame, bytes]) => ({
      frame,
      frames: Math.round((this.counts.get(frame)! / edits) * 100) / 100,
      bytes: Math.round((bytes / edits) * 10) / 10,
    }));
  }

  private add(key: string, size: number): void {
    this.bytes.set(key, (this.bytes.get(key) ?? 0) + size);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}

function parseFrame(b: Buffer): { size: number; payload: Buffer } | undefined {
  if (b.length < 2) return undefined;
  let length = b[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (b.length < 4) return undefined;
    length = b.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (b.length < 10) return undefined;
    length = Number(b.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (b[1]! & 0x80) !== 0;
  const mask = masked ? b.subarray(offset, offset + 4) : undefined;
  if (masked) offset += 4;
  if (b.length < offset + length) return undefined;
  const payload = Buffer.from(b.subarray(offset, offset + length));
  if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return { size: offset + length, payload };
}

