import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { decodeServerMessage } from '@quire/core/protocol';
import { createLogger } from '../logger.js';
import { relaySocket } from './socket-relay.js';

const logger = createLogger({ level: 'silent' });
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function wsServer(onConnection: (ws: WebSocket, headers: Record<string, string | string[] | undefined>) => void): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws, request) => onConnection(ws, request.headers));
  await new Promise((resolve) => wss.once('listening', resolve));
  closers.push(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => resolve());
  }));
  const address = wss.address();
  return `ws://127.0.0.1:${(address as { port: number }).port}`;
}

/** A front node that relays every connection to `upstreamUrl`. */
function front(upstreamUrl: string): Promise<string> {
  return wsServer((ws, headers) => relaySocket(ws, { upstreamUrl, headers: { authorization: String(headers.authorization ?? '') }, logger }));
}

function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: 'Bearer alice' } });
  closers.push(async () => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('relaySocket', () => {
  it('passes frames both ways in order, binary as binary, with the client’s headers', async () => {
    let seenAuthorization: unknown;
    const upstream = await wsServer((ws, headers) => {
      seenAuthorization = headers.authorization;
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const client = await connect(await front(upstream));
    const received: Array<{ text: string; isBinary: boolean }> = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data, isBinary) => {
        received.push({ text: (data as Buffer).toString(), isBinary });
        if (received.length === 50) resolve();
      }),
    );
    // Sent at once: most arrive before the other node has answered.
    for (let i = 0; i < 50; i++) client.send(i % 2 ? Buffer.from(`b${i}`) : `t${i}`);
    await all;
    expect(received.map((r) => r.text)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? `b${i}` : `t${i}`)));
    expect(received.map((r) => r.isBinary)).toEqual(Array.from({ length: 50 }, (_, i) => i % 2 === 1));
    expect(seenAuthorization).toBe('Bearer alice');
  });

  it('closes the client with the other node’s close code', async () => {
    const upstream = await wsServer((ws) => ws.close(4401, 'unauthorized'));
    const client = await connect(await front(upstream));
    expect(await closed(client)).toEqual({ code: 4401, reason: 'unauthorized' });
  });

  it('closes the other node’s side when the client leaves', async () => {
    let connected!: (ws: WebSocket) => void;
    const upstreamSocket = new Promise<WebSocket>((resolve) => (connected = resolve));
    const upstream = await wsServer((ws) => connected(ws));
    const client = await connect(await front(upstream));
    const close = closed(await upstreamSocket);
    client.close(1000, 'bye');
    expect(await close).toEqual({ code: 1000, reason: 'bye' });
  });

  it('tells the client the document is unavailable when the other node does not answer', async () => {
    // A port nothing listens on: take one, then free it.
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const client = await connect(await front(`ws://127.0.0.1:${port}`));
    const message = new Promise<unknown>((resolve) => client.once('message', (data) => resolve(decodeServerMessage(new Uint8Array(data as Buffer)))));
    const close = closed(client);
    expect(await message).toMatchObject({ type: 'error', code: 'document_unavailable', fatal: true });
    expect((await close).code).toBe(4500);
  });
});
