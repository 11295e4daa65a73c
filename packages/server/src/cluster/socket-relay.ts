import { type RawData, WebSocket } from 'ws';
import { encodeMessage } from '@quire/core/protocol';
import type { Logger } from '../logger.js';

/** Close codes a peer may send on (1005, 1006 and 1015 only describe a close). */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999) ? code : 1011;
}

// A side whose peer has this much unsent stops reading until it drains.
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export interface RelayOptions {
  /** The coordinating node's WebSocket URL for this document, with its query. */
  upstreamUrl: string;
  /** The client's upgrade headers to pass on, so the other node authorizes the client itself. */
  headers: Record<string, string>;
  logger: Logger;
  /** How long to wait for the other node's 101. Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Relays a client's connection to the node that coordinates its document,
 * frame by frame in both directions: the client speaks to that node as if
 * directly, and needs only the one URL of the deployment. When either side
 * closes, so does the other; the client then reconnects through whichever
 * node it reaches, which looks the coordinator up again.
 */
export function relaySocket(client: WebSocket, options: RelayOptions): void {
  const { logger } = options;
  const upstream = new WebSocket(options.upstreamUrl, { headers: options.headers, handshakeTimeout: options.connectTimeoutMs ?? 10_000, perMessageDeflate: false });
  // What the client sent before the other node answered.
  const early: Array<{ data: RawData; isBinary: boolean }> = [];
  let opened = false;

  const pipe = (from: WebSocket, to: WebSocket) => (data: RawData, isBinary: boolean) => {
    to.send(data, { binary: isBinary }, () => {
      if (to.bufferedAmount < HIGH_WATER_BYTES && from.isPaused) from.resume();
    });
    if (to.bufferedAmount >= HIGH_WATER_BYTES) from.pause();
  };

  client.on('message', (data, isBinary) => {
    if (opened) pipe(client, upstream)(data, isBinary);
    else early.push({ data, isBinary });
  });
  upstream.on('open', () => {
    opened = true;
    for (const { data, isBinary } of early.splice(0)) upstream.send(data, { binary: isBinary });
  });
  upstream.on('message', pipe(upstream, client));
  upstream.on('close', (code, reason) => {
    if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close(sendableCode(code), reason);
  });
  upstream.on('error', (error) => {
    if (opened) return; // a 'close' follows
    logger.warn({ upstream: options.upstreamUrl, err: error }, 'the node that coordinates this document is unreachable');
    if (client.readyState !== WebSocket.OPEN) return;
    const message = `the server node that coordinates this document is unreachable (${error.message}) — the client reconnects, and another node takes the document over if that one is gone`;
    client.send(encodeMessage({ type: 'error', code: 'document_unavailable', message, seq: 0, fatal: true }));
    client.close(4500, 'document_unavailable');
  });
  client.on('close', (code, reason) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.close(sendableCode(code), reason);
    else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
  });
  client.on('error', () => upstream.terminate());
}
