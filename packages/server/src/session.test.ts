import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import reducers from '../test/fixtures/session-app.js';
import { PROTOCOL_VERSION, decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '@quire/core/protocol';
import { memoryLogger } from '../test/memory-logger.js';
import type { ServerLimits } from './limits.js';
import type { Logger } from './logger.js';
import { createSyncServer, type SyncServer } from './sync-server.js';

// In a module: document workers load the app from one.
const APP_MODULE = new URL('../test/fixtures/session-app.ts', import.meta.url);
let inWorkers = false;

interface Raw {
  ws: WebSocket;
  received: ServerMessage[];
  closed: { code: number; reason: string } | undefined;
  send(message: ClientMessage): void;
  until(check: (received: ServerMessage[]) => boolean, what: string): Promise<void>;
}

let server: SyncServer<typeof reducers> | undefined;
let url = '';
let dataDir = '';
const sockets: WebSocket[] = [];

async function start(limits: Partial<ServerLimits> = {}, logger?: Logger): Promise<void> {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-session-'));
  server = createSyncServer({ reducers, dataDir, limits, ...(logger && { logger }), ...(inWorkers && { workers: { module: APP_MODULE, count: 2 } }) });
  ({ url } = await server.listen(0));
  await server.mutate('doc', 'init', undefined as never);
}

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server?.close();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(clientId: string, options: { partial?: boolean } = {}): Promise<Raw> {
  const ws = new WebSocket(`${url}/?doc=doc`);
  sockets.push(ws);
  const raw: Raw = {
    ws,
    received: [],
    closed: undefined,
    send: (message) => ws.send(encodeMessage(message)),
    async until(check, what) {
      const deadline = Date.now() + 10_000;
      while (!check(raw.received)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${raw.received.map((m) => m.type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  ws.on('message', (data: Buffer) => raw.received.push(decodeServerMessage(new Uint8Array(data))));
  ws.on('close', (code, reason) => (raw.closed = { code, reason: reason.toString() }));
  ws.on('error', () => {});
  await new Promise((resolve) => ws.once('open', resolve));
  raw.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId, lastLsn: 0, fromSeq: 0, partial: options.partial ?? false, held: [] });
  await raw.until((r) => r.some((m) => m.type === 'snapshot' && m.done), `the snapshot for ${clientId}`);
  return raw;
}

const add = (seq: number, pad = 0) => ({ seq, name: 'add', args: JSON.stringify({ json: { pad } }) });

/** How many rows `client` had when a server-side probe ran, queued behind whatever was queued then. */
async function countAtProbe(client: string): Promise<number> {
  const error = await server!.mutate('doc', 'count', { client }).catch((e: Error) => e);
  return Number((error as Error).message);
}

/**
 * Resolves once the server has handled what `raw` sent so far: a session
 * handles a connection's frames in order, so a page request sent last is
 * answered after them. (A fixed wait lost this race on a busy machine.)
 */
async function handled(raw: Raw): Promise<void> {
  const id = 1_000_000 + raw.received.length;
  raw.send({ type: 'getPages', id, pgnos: [{ pgno: 1 }] });
  await raw.until((r) => r.some((m) => m.type === 'pages' && m.id === id), 'the marker page answer');
}

// The same sessions in the main thread and in a document worker (WorkerSocket, backpressure reported by the main thread).
describe.each([
  ['in the main thread', false],
  ['in a document worker', true],
])('Session %s', (_, workers) => {
  beforeAll(() => {
    inWorkers = workers;
  });

  test('getPages for page 0 is answered without it; the document keeps working (it used to fail the whole document)', async () => {
    await start();
    const raw = await open('partial', { partial: true });
    raw.send({ type: 'getPages', id: 7, pgnos: [{ pgno: 0 }, { pgno: 1 }] });
    await raw.until((r) => r.some((m) => m.type === 'pages' || m.type === 'error'), 'the answer');
    const answer = raw.received.find((m) => m.type === 'pages' || m.type === 'error');
    expect(answer?.type === 'pages' ? answer.pages.map((p) => p.pgno) : answer).toEqual([1]);
    await expect(server!.mutate('doc', 'add', {})).resolves.toMatchObject({ lsn: expect.any(Number) });
  });

  test('a push of many mutations is handed to the coordinator maxQueuedMutations at a time: others are not queued behind all of it', async () => {
    const { logger, lines } = memoryLogger('debug');
    await start({ maxQueuedMutations: 50 }, logger);
    const flooder = await open('flooder');
    flooder.send({ type: 'push', mutations: Array.from({ length: 2000 }, (_, i) => add(i + 1)) });
    // Whether or not the push has arrived by then, a probe must not wait behind all of it.
    await new Promise((r) => setTimeout(r, 20));
    const before = await countAtProbe('flooder');
    expect(before).toBeLessThan(500);
    // All of it is applied in the end, exactly once.
    const deadline = Date.now() + 20_000;
    while ((await countAtProbe('flooder')) < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await countAtProbe('flooder')).toBe(2000);
    expect(flooder.received.filter((m) => m.type === 'error')).toEqual([]);
    // Operators can see why: the connection was not read while the client was at its limit.
    expect(lines).toContainEqual(expect.objectContaining({ clientId: 'flooder', limit: 'maxQueuedMutations', msg: 'stopped reading the connection: the client is at limits.maxQueuedMutations' }));
    expect(lines).toContainEqual(expect.objectContaining({ clientId: 'flooder', limit: 'maxQueuedMutations', msg: 'reading the connection again', pausedMs: expect.any(Number) }));
  });

  test('without the limit, the same push is all queued in front of a later mutation (what the limit prevents)', async () => {
    await start({ maxQueuedMutations: Infinity, maxQueuedBytes: Infinity });
    const flooder = await open('flooder');
    flooder.send({ type: 'push', mutations: Array.from({ length: 2000 }, (_, i) => add(i + 1)) });
    await handled(flooder);
    expect(await countAtProbe('flooder')).toBe(2000);
  });

  test('two connections of one client share its queue: overlapping pushes through both are each applied once', async () => {
    await start({ maxQueuedMutations: 20 });
    const a = await open('twin');
    const b = await open('twin');
    a.send({ type: 'push', mutations: Array.from({ length: 300 }, (_, i) => add(i + 1)) });
    b.send({ type: 'push', mutations: Array.from({ length: 400 }, (_, i) => add(i + 1)) });
    const settled = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while ((await countAtProbe('twin')) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return countAtProbe('twin');
    };
    expect(await settled(400)).toBe(400);
    // Resends of all of it and 50 more, through the other connection.
    a.send({ type: 'push', mutations: Array.from({ length: 450 }, (_, i) => add(i + 1)) });
    expect(await settled(450)).toBe(450);
    expect([...a.received, ...b.received].filter((m) => m.type === 'error')).toEqual([]);
  });

  test('a new connection over maxConnectionsPerClient closes the oldest one with too_many_connections', async () => {
    await start({ maxConnectionsPerClient: 2 });
    const first = await open('same');
    const second = await open('same');
    const third = await open('same');
    await first.until(() => first.closed !== undefined, 'the oldest to close');
    expect(first.received.at(-1)).toMatchObject({ type: 'error', code: 'too_many_connections', fatal: true });
    expect(first.closed).toEqual({ code: 4429, reason: 'too_many_connections' });
    expect((first.received.at(-1) as { message: string }).message).toContain('raise limits.maxConnectionsPerClient');
    expect(second.closed).toBeUndefined();
    expect(third.closed).toBeUndefined();
    // Another client id is not affected.
    const other = await open('other');
    expect(other.closed).toBeUndefined();
  });

  test('a burst of page requests does not hold up another client\'s push: answers go out one event-loop turn at a time', async () => {
    await start();
    for (let i = 0; i < 10; i++) await server!.mutate('doc', 'add', { noise: 400_000 });
    const reader = await open('reader', { partial: true });
    const writer = await open('writer');
    const all = Array.from({ length: 1024 }, (_, i) => ({ pgno: i + 1 }));
    for (let id = 1; id <= 12; id++) reader.send({ type: 'getPages', id, pgnos: all });
    writer.send({ type: 'push', mutations: [add(1)] });
    await writer.until((r) => r.some((m) => m.type === 'commit'), "the writer's commit");
    const { lsn } = writer.received.find((m) => m.type === 'commit')!;
    await reader.until((r) => r.some((m) => m.type === 'commit' && m.lsn === lsn), 'the commit at the reader');
    const at = reader.received.findIndex((m) => m.type === 'commit' && m.lsn === lsn);
    // Each answer is 4 MB read and deflated; before the fix the push waited for 9 to 16 of them.
    expect(reader.received.slice(0, at).filter((m) => m.type === 'pages').length).toBeLessThanOrEqual(2);
    await reader.until((r) => r.filter((m) => m.type === 'pages').length === 12, 'all 12 answers');
    expect(reader.received.flatMap((m) => (m.type === 'pages' ? [m.id] : []))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  test.each([
    ['limits', { maxPagesInFlight: 512, maxBufferedBytes: 4 * 1024 * 1024 }, (n: number) => expect(n).toBeLessThan(16)],
    ['no limits (what they prevent)', { maxPagesInFlight: Infinity, maxBufferedBytes: Infinity }, (n: number) => expect(n).toBe(60)],
  ] as const)('page requests from a client that does not read what it asked for: answers stop piling up in server memory, with %s', async (_, limits, check) => {
    const { logger, lines } = memoryLogger('debug');
    await start(limits, logger);
    for (let i = 0; i < 10; i++) await server!.mutate('doc', 'add', { noise: 400_000 });
    const reader = await open('reader', { partial: true });
    reader.ws.pause();
    // 1 MB answers that do not deflate.
    const quarter = Array.from({ length: 256 }, (_, i) => ({ pgno: i + 1 }));
    for (let id = 1; id <= 60; id++) reader.send({ type: 'getPages', id, pgnos: quarter });
    // Read by the server only after it took all 60 requests: once it is applied, their answers were made.
    reader.send({ type: 'push', mutations: [add(1)] });
    // Until the server took every request it takes while the client does not read: all of them, or until it
    // stopped reading the connection because too many bytes wait to be sent to it (then it cannot go on).
    const stopped = () => lines.some((l) => l.msg === 'stopped reading the connection: the client is at limits.maxBufferedBytes');
    await expect.poll(async () => stopped() || (await countAtProbe('reader')) === 1, { timeout: 20_000, interval: 20 }).toBe(true);
    // A marker in the connection's stream: the answers before it are what the server made while the client did not read.
    const { lsn } = await server!.mutate('doc', 'add', {});
    reader.ws.resume();
    await reader.until((r) => r.some((m) => m.type === 'commit' && m.lsn === lsn), 'the marker commit');
    const at = reader.received.findIndex((m) => m.type === 'commit' && m.lsn === lsn);
    check(reader.received.slice(0, at).filter((m) => m.type === 'pages').length);
    // Once the client reads, it gets every answer, in order.
    await reader.until((r) => r.filter((m) => m.type === 'pages').length === 60, 'all 60 answers');
    expect(reader.received.flatMap((m) => (m.type === 'pages' ? [m.id] : []))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  test('a connection that stops reading is closed once its unsent backlog stays over maxBufferedBytes', async () => {
    await start({ maxBufferedBytes: 256 * 1024, slowConsumerMs: 200 });
    const stalled = await open('stalled');
    const reading = await open('reading');
    stalled.ws.pause();
    // 20 MB that does not deflate: more than the kernel's socket buffers hold.
    for (let i = 0; i < 40; i++) await server!.mutate('doc', 'add', { noise: 500_000 });
    await new Promise((r) => setTimeout(r, 400));
    await server!.mutate('doc', 'add', {});
    await new Promise((r) => setTimeout(r, 400));
    stalled.ws.resume();
    await stalled.until(() => stalled.closed !== undefined, 'the stalled connection to close');
    expect(stalled.closed?.code).toBe(1006);
    // The client that reads got everything and is still connected.
    expect(reading.closed).toBeUndefined();
    expect(reading.received.filter((m) => m.type === 'commit').length).toBe(41);
  });
});
