import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A TCP connection that did the WebSocket upgrade by hand, so a test can
 * write WebSocket framing that no WebSocket library would: bad opcodes, RSV
 * bits, missing masks, lengths that lie.
 */
export interface RawWebSocket {
  readonly socket: Socket;
  /** Everything the server sent after the upgrade. */
  readonly received: () => Buffer;
  readonly ended: () => boolean;
  write(bytes: Uint8Array): void;
  /** The close code the server sent in a close frame, once it has. */
  closeCode(): number | undefined;
  /** Resolves true once the server sent a close frame or ended the connection, false after `ms`. */
  waitClose(ms: number): Promise<boolean>;
  destroy(): void;
}

export async function openRawWebSocket(url: string, path: string): Promise<RawWebSocket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  let ended = false;
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!upgraded) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) socket.destroy(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      buffer = buffer.subarray(end + 4);
      upgraded = true;
    }
    for (const w of waiters) w();
  });
  socket.on('close', () => {
    ended = true;
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const check = () => {
      if (upgraded) resolve();
      else if (ended) reject(new Error('the connection closed during the upgrade'));
    };
    waiters.add(check);
  });
  return {
    socket,
    received: () => buffer,
    ended: () => ended,
    write: (bytes) => void (ended || socket.write(bytes)),
    closeCode: () => closeCodeIn(buffer),
    waitClose: (ms) =>
      new Promise((resolve) => {
        const closed = () => ended || closeCodeIn(buffer) !== undefined;
        if (closed()) return resolve(true);
        const timer = setTimeout(() => resolve(false), ms);
        waiters.add(() => {
          if (!closed()) return;
          clearTimeout(timer);
          resolve(true);
        });
      }),
    destroy: () => socket.destroy(),
  };
}

/** One WebSocket frame as a client sends it: FIN, opcode, masked payload. */
export function webSocketFrame(payload: Uint8Array, options: { opcode?: number; fin?: boolean; mask?: boolean } = {}): Uint8Array {
  const { opcode = 2, fin = true, mask = true } = options;
  const length = payload.length;
  const header: number[] = [(fin ? 0x80 : 0) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) header.push(maskBit | length);
  else if (length < 65536) header.push(maskBit | 126, length >> 8, length & 0xff);
  else header.push(maskBit | 127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  const key = mask ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(header), key, body]);
}

/** The code of the first close frame among the server's (unmasked) frames, if there is one yet. */
function closeCodeIn(bytes: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > bytes.length) return undefined;
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > bytes.length) return undefined;
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > bytes.length) return undefined;
    if (opcode === 8) return length >= 2 ? bytes.readUInt16BE(start) : 1005;
    at = start + length;
  }
  return undefined;
}
