import { createServer, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, expect, test } from 'vitest';
import { encodeMessage } from '../protocol/index.js';
import { Connection } from './connection.js';
import type { ConnectionState } from './sync-status.js';

const sockets = new Set<Socket>();
// Accepts TCP connections and never answers, so a WebSocket stays in its handshake.
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
});

afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  silent.close();
});

test('stop() during the handshake closes quietly: no uncaught error, state offline', async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  const states: ConnectionState[] = [];
  const conn = new Connection(
    { url: `ws://127.0.0.1:${port}/`, WebSocket: WebSocket as never },
    { onOpen: () => ({ type: 'hello', protocolVersion: 0, appVersion: 0, clientId: 'c', lastLsn: 0, fromSeq: 0, partial: false, held: [] }), onMessage: () => {}, onState: (s) => states.push(s) },
  );
  // Waits for the server to accept, not for a fixed time: on a busy machine a
  // 50 ms timer could fire before the event loop had polled the accept.
  const accepted = new Promise<Socket>((resolve) => silent.once('connection', resolve));
  try {
    conn.start();
    const socket = await accepted;
    expect(sockets.size).toBe(1);
    const gone = new Promise((resolve) => socket.once('close', resolve));
    conn.stop('offline');
    // The server sees the client drop its half-made connection: any error
    // that stop() left unhandled (emitted on the next tick) is out by then.
    await gone;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(uncaught).toEqual([]);
    expect(states).toEqual(['connecting', 'offline']);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

test('a server that accepts and never answers is given up on after handshakeTimeoutMs, and tried again', async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  const events: string[] = [];
  const conn = new Connection(
    { url: `ws://127.0.0.1:${port}/`, WebSocket: WebSocket as never, handshakeTimeoutMs: 80, minDelayMs: 1, maxDelayMs: 1 },
    { onOpen: () => ({ type: 'hello', protocolVersion: 0, appVersion: 0, clientId: 'c', lastLsn: 0, fromSeq: 0, partial: false, held: [] }), onMessage: () => {}, onState: (s, e) => events.push(e ? `${s}:${e.code}` : s) },
  );
  try {
    conn.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual(['connecting']);
    await expect.poll(() => events.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(events.slice(0, 3)).toEqual(['connecting', 'offline:handshake_timeout', 'connecting']);
    // The second attempt is a new TCP connection.
    await expect.poll(() => sockets.size, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
  } finally {
    conn.stop('offline');
  }
});

test.each(['server_outdated', 'schema_too_new'])('a fatal %s reads waiting_for_server and retries with backoff (unlike unauthorized, which stops)', async (refusal) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  let code = refusal;
  let hellos = 0;
  server.on('connection', (ws) => {
    ws.on('message', () => {
      hellos++;
      ws.send(encodeMessage({ type: 'error', code, message: `refused: ${code}`, seq: 0, fatal: true }));
      ws.close(4500, code);
    });
  });
  const events: string[] = [];
  const conn = new Connection(
    { url: `ws://127.0.0.1:${port}/`, WebSocket: WebSocket as never, minDelayMs: 1, maxDelayMs: 5 },
    { onOpen: () => ({ type: 'hello', protocolVersion: 0, appVersion: 2, clientId: 'c', lastLsn: 0, fromSeq: 0, partial: false, held: [] }), onMessage: () => {}, onState: (s, e) => events.push(e ? `${s}:${e.code}` : s) },
  );
  try {
    conn.start();
    await expect.poll(() => hellos, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(events.slice(0, 4)).toEqual(['connecting', `waiting_for_server:${refusal}`, 'connecting', `waiting_for_server:${refusal}`]);

    code = 'unauthorized';
    await expect.poll(() => events[events.length - 1], { timeout: 5000 }).toBe('unauthorized:unauthorized');
    const after = hellos;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hellos).toBe(after);
  } finally {
    conn.stop('offline');
    await new Promise((resolve) => server.close(resolve));
  }
});

test.each([
  ['a close with 1012 (Service Restart)', (ws: WebSocket) => ws.close(1012, 'server restarting')],
  ['a fatal server_closed', (ws: WebSocket) => {
    ws.send(encodeMessage({ type: 'error', code: 'server_closed', message: 'shutting down', seq: 0, fatal: true }));
    ws.close(1012, 'server_closed');
  }],
])('after %s the client comes back on restartDelayMs, not its (here minute-long) backoff, even through refused attempts', async (_, refuse) => {
  // A backoff of a minute from the first attempt on: only the restart schedule can bring the client back within the poll.
  const options = { WebSocket: WebSocket as never, minDelayMs: 60_000, maxDelayMs: 60_000, restartDelayMs: 20 };
  const first = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => first.once('listening', resolve));
  const { port } = first.address() as { port: number };
  const events: string[] = [];
  let welcomed = 0;
  const conn = new Connection(
    { url: `ws://127.0.0.1:${port}/`, ...options },
    { onOpen: () => ({ type: 'hello', protocolVersion: 0, appVersion: 0, clientId: 'c', lastLsn: 0, fromSeq: 0, partial: false, held: [] }), onMessage: () => {}, onState: (s, e) => events.push(e ? `${s}:${e.code}` : s) },
  );
  const closedFirst = new Promise<void>((resolve) =>
    first.on('connection', (ws) =>
      ws.once('message', () => {
        welcomed++;
        conn.handshakeDone();
        // The old process stops listening, then says it restarts: the next attempts are refused until the new one listens.
        first.close();
        refuse(ws);
        ws.once('close', () => resolve());
      }),
    ),
  );
  let second: WebSocketServer | undefined;
  try {
    conn.start();
    await closedFirst;
    await expect.poll(() => events.filter((e) => e.endsWith(':server_unreachable')).length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    second = new WebSocketServer({ port, host: '127.0.0.1' });
    second.on('connection', (ws) => ws.once('message', () => welcomed++));
    await expect.poll(() => welcomed, { timeout: 5000 }).toBe(2);
  } finally {
    conn.stop('offline');
    await new Promise((resolve) => (second ? second.close(resolve) : resolve(undefined)));
  }
});
