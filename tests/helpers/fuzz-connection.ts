import { constants, inflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { MESSAGE_SCHEMAS, decodeServerMessage, type DurableMessage, type ErrorMessage, type PresenceMessage, type RejectionsMessage, type ServerMessage, type WelcomeMessage } from '@quire/core/protocol';
import type { WireFrame } from './fuzz-model.js';

/** A page answer without its pages' bytes (they would keep whole frames alive). */
export interface PagesSeen {
  type: 'pages';
  id: number;
  pageCount: number;
  pgnos: number[];
  /** Pages whose image is not 4096 bytes long. */
  badSizes: number;
}

/** What a fuzz connection keeps of a server frame: errors and welcomes whole, page answers without their bytes, the rest by type. */
export type Seen =
  | ErrorMessage
  | PagesSeen
  | WelcomeMessage
  | RejectionsMessage
  | DurableMessage
  | PresenceMessage
  | { type: 'snapshot' | 'commit' }
  | { type: 'undecodable'; error: string };

const TAGS = { error: MESSAGE_SCHEMAS.error.tag, pages: MESSAGE_SCHEMAS.pages.tag, welcome: MESSAGE_SCHEMAS.welcome.tag, snapshot: MESSAGE_SCHEMAS.snapshot.tag } as const;

/**
 * A raw WebSocket for fuzzing: sends frames as they are, keeps a light
 * record of what comes back, and waits on events rather than polling, so
 * thousands of them can run one after another.
 */
export class FuzzConnection {
  readonly seen: Seen[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly checks = new Set<() => void>();

  private constructor(
    readonly ws: WebSocket,
    /** false: keep only the type of page answers, without decoding them (for floods of big answers). */
    decodePages: boolean,
  ) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary) => {
      this.seen.push(isBinary ? classify(data, decodePages) : { type: 'undecodable', error: 'text frame' });
      this.poke();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.poke();
    });
    ws.on('error', () => {});
  }

  static open(url: string, docId: string, options: { decodePages?: boolean } = {}): Promise<FuzzConnection> {
    const ws = new WebSocket(`${url}/?doc=${encodeURIComponent(docId)}`, { perMessageDeflate: false });
    const connection = new FuzzConnection(ws, options.decodePages ?? true);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(connection));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`fuzz connection got HTTP ${res.statusCode}`)));
      ws.once('close', (code) => reject(new Error(`fuzz connection closed before opening (${code})`)));
    });
  }

  /** Sends the frame if the socket is still open; false if it was not. */
  send(frame: WireFrame): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(frame.bytes, { binary: !frame.text });
    return true;
  }

  /** Resolves once `ready()` holds, checked after every frame and the close; fails after `timeoutMs`. */
  waitFor(ready: () => boolean, what: () => string, timeoutMs = 20_000): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ready()) return;
        this.checks.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}; received ${describeSeen(this.seen)}; closed ${JSON.stringify(this.closed)}`));
      }, timeoutMs);
      this.checks.add(check);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.close(1000);
    await this.waitFor(() => this.closed !== undefined, () => 'the close', 5_000).catch(() => this.ws.terminate());
  }

  private poke(): void {
    for (const check of [...this.checks]) check();
  }
}

export function describeSeen(seen: readonly Seen[]): string {
  if (seen.length === 0) return 'nothing';
  return seen
    .map((m) => {
      if (m.type === 'error') return `error(${m.code}, seq ${m.seq}, fatal ${m.fatal}: ${m.message.slice(0, 80)})`;
      if (m.type === 'pages') return `pages(${m.id}: ${m.pgnos.length})`;
      if (m.type === 'undecodable') return `undecodable(${m.error})`;
      return m.type;
    })
    .join(', ');
}

function classify(bytes: Buffer, decodePages: boolean): Seen {
  const tag = peekTag(bytes);
  if (tag === TAGS.snapshot) return { type: 'snapshot' };
  if (tag === TAGS.pages && !decodePages) return { type: 'pages', id: -1, pageCount: -1, pgnos: [], badSizes: 0 };
  if (tag !== TAGS.error && tag !== TAGS.pages && tag !== TAGS.welcome) return tag === MESSAGE_SCHEMAS.commit.tag ? { type: 'commit' } : decodeOrNot(bytes);
  return decodeOrNot(bytes);
}

function decodeOrNot(bytes: Buffer): Seen {
  try {
    // node:zlib inflates several times faster than the portable inflate the decoder would use.
    const message: ServerMessage = decodeServerMessage(bytes[0] === 0 ? inflateRawSync(bytes.subarray(1)) : bytes);
    if (message.type === 'commit' || message.type === 'snapshot') return { type: message.type };
    if (message.type === 'pages') {
      return { type: 'pages', id: message.id, pageCount: message.pageCount, pgnos: message.pages.map((p) => p.pgno), badSizes: message.pages.filter((p) => p.data.length !== 4096).length };
    }
    return message;
  } catch (error) {
    return { type: 'undecodable', error: String(error) };
  }
}

function peekTag(bytes: Buffer): number | undefined {
  if (bytes.length === 0 || bytes[0] !== 0) return bytes[0];
  try {
    return inflateRawSync(bytes.subarray(1, 257), { finishFlush: constants.Z_SYNC_FLUSH })[0];
  } catch {
    return undefined;
  }
}
