import { Transform, type TransformCallback } from 'node:stream';
import { decodeServerMessage } from '@quire/core/protocol';

/**
 * The server→browser bytes of one sync WebSocket, passed through frame by
 * frame, minus the `pages` answers while `holding()` says so. A withheld
 * answer is lost with the connection, exactly like one still on the wire
 * when the socket closed: the race of going offline with a page fetch in
 * flight, every time instead of 1 run in 10.
 *
 * Parses the HTTP upgrade response, then RFC 6455 frames (a server's are
 * never masked). Quire sends each message as one binary frame.
 */
export function pageAnswerFilter(holding: () => boolean, onWithheld: () => void): Transform {
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return done();
        this.push(buffer.subarray(0, end + 4));
        buffer = buffer.subarray(end + 4);
        upgraded = true;
      }
      for (;;) {
        const frame = nextFrame(buffer);
        if (!frame) break;
        const bytes = buffer.subarray(0, frame.end);
        buffer = buffer.subarray(frame.end);
        if (frame.binary && holding() && isPagesAnswer(frame.payload)) onWithheld();
        else this.push(bytes);
      }
      done();
    },
  });
}

function nextFrame(buffer: Buffer): { end: number; binary: boolean; payload: Buffer } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0]! & 0x0f;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { end: offset + length, binary: opcode === 0x2, payload: buffer.subarray(offset, offset + length) };
}

function isPagesAnswer(payload: Buffer): boolean {
  try {
    return decodeServerMessage(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)).type === 'pages';
  } catch {
    return false;
  }
}
