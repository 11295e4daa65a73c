import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '@quire/core/protocol';
import { waitFor } from './wait-for.js';

/** What a raw socket received: a decoded server message, or bytes that did not decode. */
export type Received = ServerMessage | { type: 'undecodable'; error: string; bytes: Uint8Array };

/**
 * A WebSocket that speaks Quire frames by hand, for tests that send what a
 * real client never would. It records every frame and the close.
 */
export interface RawSocket {
  readonly ws: WebSocket;
  /** Every frame received so far, in order. */
  readonly received: Received[];
  /** Set once the socket closed: the close code and reason the client saw. */
  readonly closed: { code: number; reason: string } | undefined;
  send(message: ClientMessage): void;
  /** Sends raw bytes as one binary frame. */
  sendBytes(bytes: Uint8Array): void;
  sendText(text: string): void;
  /** Sends hello and waits for welcome (and the snapshot or commit that brings this socket up to date). */
  hello(clientId: string, options?: { lastLsn?: number; fromSeq?: number; partial?: boolean }): Promise<{ lsn: number }>;
  /** Waits for the first received frame (at or after index `from`) that matches. */
  next<T extends Received['type']>(type: T, from?: number, message?: string): Promise<Extract<Received, { type: T }>>;
  /** Waits until the server closed the connection. */
  waitClosed(): Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens a raw socket to `url` (a server base URL) on `docId`, or to the exact `url` when `docId` is null. */
export async function openRaw(url: string, docId: string | null): Promise<RawSocket> {
  const target = docId === null ? url : `${url}/?doc=${encodeURIComponent(docId)}`;
  const ws = new WebSocket(target);
  ws.binaryType = 'nodebuffer';
  const received: Received[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (data, isBinary) => {
    const bytes = toBytes(data);
    if (!isBinary) {
      received.push({ type: 'undecodable', error: 'text frame', bytes });
      return;
    }
    try {
      received.push(decodeServerMessage(bytes));
    } catch (error) {
      received.push({ type: 'undecodable', error: String(error), bytes });
    }
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', (code) => reject(new Error(`raw socket to ${target} closed before opening (code ${code})`)));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`raw socket to ${target} got HTTP ${res.statusCode}`)));
  });

  const socket: RawSocket = {
    ws,
    received,
    get closed() {
      return closed;
    },
    send(message) {
      ws.send(encodeMessage(message));
    },
    sendBytes(bytes) {
      ws.send(bytes, { binary: true });
    },
    sendText(text) {
      ws.send(text, { binary: false });
    },
    async hello(clientId, options = {}) {
      const from = received.length;
      socket.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId, lastLsn: options.lastLsn ?? 0, fromSeq: options.fromSeq ?? 0, partial: options.partial ?? false, held: [] });
      const welcome = await socket.next('welcome', from, `welcome for ${clientId}`);
      if (!options.lastLsn || options.lastLsn !== welcome.lsn) {
        // Brought up to date by a snapshot (done = true) or a catch-up commit.
        await waitFor(
          () => received.slice(from).some((m) => (m.type === 'snapshot' && m.done) || (m.type === 'commit' && m.lsn === welcome.lsn)),
          `${clientId} to receive its snapshot at LSN ${welcome.lsn}`,
          10_000,
        );
      }
      return { lsn: welcome.lsn };
    },
    async next(type, from = 0, message) {
      let found: Received | undefined;
      await waitFor(
        () => {
          found = received.slice(from).find((m) => m.type === type);
          if (!found && closed) throw new Error(`socket closed (${closed.code} ${closed.reason}) before a ${type} frame arrived; got ${describe(received.slice(from))}`);
          return found !== undefined;
        },
        message ?? `a ${type} frame (got ${describe(received.slice(from))})`,
        10_000,
      );
      return found as Extract<Received, { type: typeof type }>;
    },
    async waitClosed() {
      await waitFor(() => closed !== undefined, `the server to close the socket (got ${describe(received)})`, 10_000);
      return closed!;
    },
    async close() {
      if (closed) return;
      ws.close(1000);
      await waitFor(() => closed !== undefined, 'raw socket to close', 5_000).catch(() => ws.terminate());
    },
  };
  return socket;
}

/** A short description of received frames, for failure messages. */
export function describe(frames: readonly Received[]): string {
  if (frames.length === 0) return 'nothing';
  return frames
    .map((m) => {
      if (m.type === 'error') return `error(${m.code}, seq ${m.seq}, fatal ${m.fatal})`;
      if (m.type === 'commit') return `commit(${m.lsn - m.span}->${m.lsn})`;
      if (m.type === 'rejections') return `rejections(${m.lsn}: ${m.rejections.map((r) => r.seq).join(', ')})`;
      if (m.type === 'snapshot') return `snapshot(${m.lsn}${m.done ? ', done' : ''})`;
      if (m.type === 'welcome') return `welcome(${m.lsn})`;
      if (m.type === 'pages') return `pages(${m.id} at ${m.lsn}: ${m.pages.length})`;
      if (m.type === 'durable') return `durable(${m.lsn})`;
      if (m.type === 'presence') return `presence(${m.full ? 'full, ' : ''}${m.peers.map((p) => `${p.clientId}:${p.key}`).join(', ')})`;
      return `undecodable(${m.error})`;
    })
    .join(', ');
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}
