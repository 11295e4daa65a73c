import { ProtocolError, QuireError } from '../errors.js';
import { PAGE_SIZE } from '../page/page.js';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage } from '../protocol/index.js';
import { type BackoffOptions, RESTART_ATTEMPTS, SERVICE_RESTART, backoffDelay, restartDelay } from './backoff.js';
import type { ConnectionState } from './sync-status.js';

/** The subset of the WebSocket API Quire uses; the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectionHandlers {
  /** The socket is open: say hello. */
  onOpen(): ClientMessage;
  onMessage(message: ServerMessage): void;
  onState(state: ConnectionState, error?: { code: string; message: string }): void;
}

export interface ConnectionOptions extends BackoffOptions {
  url: string;
  WebSocket: WebSocketConstructor;
}

const OPEN = 1;

/** One logical connection to the sync server: a WebSocket, re-opened with backoff until stopped. */
export class Connection {
  private socket: WebSocketLike | undefined;
  private attempt = 0;
  /** Attempts left that wait `restartDelay`: the server said it is restarting. */
  private restartAttempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  // Counted for the inspector: two additions per frame.
  private frames = 0;
  private bytes = 0;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.open();
  }

  /** Closes the socket and stops reconnecting. */
  stop(state: ConnectionState = 'offline'): void {
    this.running = false;
    clearTimeout(this.timer);
    this.drop(1000, 'client stopped');
    this.handlers.onState(state);
  }

  /** Drops the current socket and connects again at once (e.g. to resync). */
  restart(): void {
    this.socket?.close(4000, 'client resync');
  }

  /** Frames and bytes received over every socket so far. */
  get received(): { frames: number; bytes: number } {
    return { frames: this.frames, bytes: this.bytes };
  }

  get isOpen(): boolean {
    return this.socket?.readyState === OPEN;
  }

  /** Sends a message, or a frame already encoded; false if the socket is not open. */
  send(message: ClientMessage | Uint8Array): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(message instanceof Uint8Array ? message : encodeMessage(message));
    return true;
  }

  /** A successful handshake resets the backoff. */
  handshakeDone(): void {
    this.attempt = 0;
    this.restartAttempts = 0;
    clearTimeout(this.handshakeTimer);
  }

  /** Closes the current socket without hearing from it again. */
  private drop(code: number, reason: string): void {
    clearTimeout(this.handshakeTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.onclose = socket.onmessage = socket.onopen = null;
    // Closing during the handshake makes `ws` emit an error; with no
    // listener that would be an uncaught exception.
    socket.onerror = () => {};
    socket.close(code, reason);
  }

  private open(): void {
    this.handlers.onState('connecting');
    const timeoutMs = this.options.handshakeTimeoutMs ?? 15_000;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = setTimeout(() => {
      this.drop(1000, 'handshake timeout');
      this.scheduleReconnect({ code: 'handshake_timeout', message: `the server did not welcome this client within ${timeoutMs} ms — retrying; check that the URL points at a Quire sync server` });
    }, timeoutMs);
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.options.url);
    } catch (error) {
      this.scheduleReconnect({ code: 'connect_failed', message: String(error) });
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    // Node's `ws` hands over the Buffer it read, where 'arraybuffer' costs a
    // copy (an ArrayBuffer) per message; a browser ignores a type it does not
    // know and stays at 'arraybuffer'.
    socket.binaryType = 'nodebuffer';
    let opened = false;
    let failure: string | undefined;
    socket.onopen = () => {
      opened = true;
      this.send(this.handlers.onOpen());
    };
    socket.onmessage = (event) => {
      let message: ServerMessage;
      try {
        const bytes = toBytes(event.data);
        this.frames++;
        this.bytes += bytes.byteLength;
        message = decodeServerMessage(bytes);
      } catch (error) {
        const code = error instanceof ProtocolError ? error.code : 'malformed_frame';
        socket.close(4400, `undecodable server message: ${code}`);
        return;
      }
      if (message.type === 'error' && message.fatal) {
        this.fatal(socket, message.code, message.message);
        return;
      }
      this.handlers.onMessage(message);
    };
    // Node's `ws` says why a connection failed (ECONNREFUSED, …); browsers hide it.
    socket.onerror = (event) => {
      failure ??= socketFailure(event);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (!opened) {
        const where = displayUrl(this.options.url);
        this.scheduleReconnect({ code: 'server_unreachable', message: `could not connect to ${where}: ${failure ?? 'server unreachable'} — is the server running at that address? Retrying.` });
        return;
      }
      if (event.code === SERVICE_RESTART) this.restartAttempts = RESTART_ATTEMPTS;
      this.scheduleReconnect({ code: `close_${event.code}`, message: event.reason || 'connection closed' });
    };
  }

  private fatal(socket: WebSocketLike, code: string, message: string): void {
    clearTimeout(this.handshakeTimer);
    socket.onclose = null;
    socket.close(1000);
    this.socket = undefined;
    if (code === 'unauthorized' || code === 'client_id_taken') {
      // Retrying with the same credentials (or client id) cannot succeed.
      this.running = false;
      this.handlers.onState('unauthorized', { code, message });
      return;
    }
    // A server older than this client (server_outdated) or than the document (schema_too_new):
    // retrying reaches a newer one once the deploy is done.
    const olderServer = code === 'server_outdated' || code === 'schema_too_new';
    // A server shutting down refuses what arrives while it drains: it is back soon.
    if (code === 'server_closed') this.restartAttempts = RESTART_ATTEMPTS;
    this.scheduleReconnect({ code, message }, olderServer ? 'waiting_for_server' : 'offline');
  }

  private scheduleReconnect(error: { code: string; message: string }, state: ConnectionState = 'offline'): void {
    clearTimeout(this.handshakeTimer);
    if (!this.running) return;
    this.handlers.onState(state, error);
    const restarting = this.restartAttempts > 0;
    if (restarting) this.restartAttempts--;
    const delay = restarting ? restartDelay(this.options) : backoffDelay(this.attempt, this.options);
    this.attempt++;
    this.timer = setTimeout(() => {
      if (this.running) this.open();
    }, delay);
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** What a socket's error event says about why it failed, if anything. */
function socketFailure(event: unknown): string | undefined {
  const error = (event as { error?: { code?: string; message?: string } } | null)?.error;
  if (error?.code && NETWORK_ERRORS[error.code]) return NETWORK_ERRORS[error.code];
  return error?.message || (event as { message?: string } | null)?.message || undefined;
}

/** The URL without its query: that may carry an auth token. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url;
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // A view into a larger buffer (ws's read chunk): page images decoded
    // from it would keep all of it alive, so a message that can hold one is
    // copied. Smaller ones hold none (the pages they change are new copies).
    return bytes.byteLength >= PAGE_SIZE && bytes.byteLength !== bytes.buffer.byteLength ? bytes.slice() : bytes;
  }
  if (Array.isArray(data)) return toBytes(concat(data as Uint8Array[]));
  throw new QuireError('malformed_frame', 'the server sent a text frame — Quire speaks binary frames only');
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
