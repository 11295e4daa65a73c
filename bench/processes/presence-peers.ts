// Light presence peers in their own process: real WebSockets that speak the
// real protocol (a hello, then `setPresence` frames from the client's own
// encoder), but hold no replica. What the server sends them is read and
// counted by its first byte, never inflated or decoded (error frames aside,
// which are rare and say why): a full Quire client decodes every presence
// frame, and 200 of them in one process spend their CPU on that instead of
// on the load they are there to apply. Prints `ready`, then answers IPC
// requests (lib/serve.ts).
import { randomBytes } from 'node:crypto';
import { MESSAGE_SCHEMAS, PROTOCOL_VERSION, decodeServerMessage, encodeMessage } from '@quire/core/protocol';
import WebSocket from 'ws';
import { serveRequests } from '../lib/serve.js';

const WELCOME = MESSAGE_SCHEMAS.welcome.tag;
const PRESENCE = MESSAGE_SCHEMAS.presence.tag;
const ERROR = MESSAGE_SCHEMAS.error.tag;
/** First byte of a deflated frame (frame-compression.ts). In this load only presence frames are large enough to be deflated. */
const DEFLATED = 0;
/** How often the load looks at which peers are due: well under the 33 ms between two sets of one peer at 30 a second. */
const TICK_MS = 4;
/** A peer that fell behind (a busy machine delays timers) sends at most this many frames in one tick; the rest are skipped and counted. */
const MAX_CATCH_UP = 3;

interface Peer {
  readonly socket: WebSocket;
  readonly name: string;
  /** Sets made in the current load, and the index of the next one due. */
  next: number;
  /** When it last sent a frame (`performance.now()`), and whether it has a set not sent yet: for a load that sends as a real client does. */
  sentAt: number;
  unsent: boolean;
}

const peers: Peer[] = [];
/** Received while a load ran, all loads together: every frame, and the presence ones. */
const received = { frames: 0, bytes: 0, presenceFrames: 0, presenceBytes: 0 };
/** Error codes the server sent, with counts: `presence_too_fast` means its rate limit was hit. */
const errors = new Map<string, number>();
/**
 * `coalesceMs` 0: one frame per set. Otherwise as a real client sends
 * (PresenceHub): at most one frame per `coalesceMs`, with the latest state.
 */
let load: { timer: ReturnType<typeof setInterval>; since: number; until: number; perSecond: number; coalesceMs: number } | undefined;
let sets = 0;
let framesSent = 0;
let skipped = 0;
let loadMs = 0;

function onFrame(data: Buffer): void {
  if (data[0] === ERROR) {
    const message = decodeServerMessage(data);
    const code = message.type === 'error' ? message.code : 'unknown';
    errors.set(code, (errors.get(code) ?? 0) + 1);
  }
  // What the server sends while the load runs (and up to one flush after it stops, which is not counted).
  if (!load) return;
  received.frames++;
  received.bytes += data.length;
  const tag = data[0];
  if (tag === PRESENCE || tag === DEFLATED) {
    received.presenceFrames++;
    received.presenceBytes += data.length;
  }
}

/** Opens one peer on `docId` and resolves once the server welcomed it. */
function open(url: string, docId: string, name: string): Promise<Peer> {
  const address = new URL(url);
  address.searchParams.set('doc', docId);
  const socket = new WebSocket(address, { perMessageDeflate: false });
  const clientId = `peer-${randomBytes(8).toString('hex')}`;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', (code, reason) => reject(new Error(`peer ${name} closed before its welcome: ${code} ${reason.toString()}`)));
    socket.once('open', () => {
      socket.send(encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId, lastLsn: 0, fromSeq: 0, partial: false, held: [] }));
    });
    socket.once('message', (data: Buffer) => {
      if (data[0] !== WELCOME) return reject(new Error(`peer ${name}: the server answered the hello with ${JSON.stringify(decodeServerMessage(data))}`));
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      // A peer that drops mid-run must not pass unnoticed.
      socket.on('close', (code) => errors.set(`closed ${code}`, (errors.get(`closed ${code}`) ?? 0) + 1));
      socket.on('error', () => {});
      socket.on('message', onFrame);
      resolve({ socket, name, next: 0, sentAt: Number.NEGATIVE_INFINITY, unsent: false });
    });
  });
}

/** A set of peer `c`'s presence: a name, a colour and a moving cursor, as an app would send. */
function frame(peer: Peer, c: number, n: number): Uint8Array {
  const state = { name: peer.name, colour: '#e11d48', cursor: { x: (n * 7 + c) % 1920, y: (n * 3 + c) % 1080 }, editing: n % 10 === 0 ? null : `t${c}` };
  return encodeMessage({ type: 'setPresence', states: [{ key: 0, state: JSON.stringify(state) }] });
}

function tick(): void {
  if (!load) return;
  const now = performance.now();
  if (now > load.until) return stop();
  const elapsed = now - load.since;
  for (const [c, peer] of peers.entries()) {
    // Peers are spread over the period rather than all sending at once.
    const due = Math.floor((elapsed * load.perSecond) / 1000 + c / peers.length);
    if (load.coalesceMs > 0) {
      // Every set due is made; the latest goes out once `coalesceMs` has passed since the last frame (leading
      // edge at once, then trailing, as PresenceHub's timer does).
      if (due > peer.next) {
        sets += due - peer.next;
        peer.next = due;
        peer.unsent = true;
      }
      if (!peer.unsent || now - peer.sentAt < load.coalesceMs) continue;
      peer.sentAt = now;
      peer.unsent = false;
      peer.socket.send(frame(peer, c, peer.next - 1));
      framesSent++;
      continue;
    }
    const sending = Math.min(due - peer.next, MAX_CATCH_UP);
    for (let k = 0; k < sending; k++) peer.socket.send(frame(peer, c, peer.next + k));
    sets += Math.max(0, sending);
    framesSent += Math.max(0, sending);
    if (due - peer.next > sending) skipped += due - peer.next - sending;
    peer.next = Math.max(peer.next, due);
  }
}

function stop(): void {
  if (!load) return;
  clearInterval(load.timer);
  loadMs += performance.now() - load.since;
  load = undefined;
}

function closeAll(): void {
  stop();
  for (const peer of peers.splice(0)) peer.socket.terminate();
}

serveRequests(
  {
    /** Opens `count` peers on `docId`, 25 at a time; resolves once the server welcomed all. */
    open: async ({ url, docId, count, prefix }: { url: string; docId: string; count: number; prefix: string }) => {
      for (let i = 0; i < count; i += 25) {
        peers.push(...(await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, k) => open(url, docId, `${prefix}-${i + k}`)))));
      }
    },
    /**
     * Each peer sets its presence `perSecond` times a second until `stop`, or for `forMs` at most: a load that
     * outlives its bench stops by itself. `coalesceMs`: see `load`.
     */
    start: ({ perSecond, forMs, coalesceMs = 0 }: { perSecond: number; forMs: number; coalesceMs?: number }) => {
      if (load) return;
      for (const peer of peers) {
        peer.next = 0;
        peer.sentAt = Number.NEGATIVE_INFINITY;
        peer.unsent = false;
      }
      const since = performance.now();
      load = { timer: setInterval(tick, TICK_MS), since, until: since + forMs, perSecond, coalesceMs };
    },
    /** Stops the load; the counts since the last `reset`. */
    stop: () => {
      stop();
      return { peers: peers.length, sets, framesSent, skipped, loadMs, ...received, errors: Object.fromEntries(errors) };
    },
    /** Zeroes the counts (between two kinds of load). */
    reset: () => {
      sets = framesSent = skipped = loadMs = 0;
      received.frames = received.bytes = received.presenceFrames = received.presenceBytes = 0;
    },
    close: () => closeAll(),
  },
  async () => closeAll(),
);
process.stdout.write('ready\n');
