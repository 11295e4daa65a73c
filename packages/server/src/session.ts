import { ProtocolError } from '@quire/core';
import { CLIENTS_TABLE } from '@quire/core/internal';
import {
  ID_RULE,
  MAX_PRESENCE_KEY,
  PROTOCOL_VERSION,
  decodeClientMessage,
  encodeMessage,
  isJsonText,
  isValidClientId,
  ArgKeys,
  ReducerNames,
  type ClientMessage,
  type Mutation,
  type WirePresenceState,
} from '@quire/core/protocol';
import { type Coordinator, MAX_PAGES_PER_REQUEST, type Peer } from './coordinator/coordinator.js';
import type { ServerFrame } from './coordinator/server-frame.js';
import { serverOutdated } from './app-versions.js';
import type { ClientConnections } from './client-connections.js';
import { ClientFlow } from './client-flow.js';
import type { DocumentRegistry } from './document-registry.js';
import type { ServerLimits } from './limits.js';
import type { Logger } from './logger.js';
import { PresenceQuota } from './presence/presence-quota.js';
import type { PresenceMember, PresenceRoom } from './presence/presence-room.js';
import type { PresenceRooms } from './presence/presence-rooms.js';
import type { SessionSocket } from './session-socket.js';

/** Close codes Quire uses (4000–4999 are for applications). */
export const CLOSE = { protocolError: 4400, unauthorized: 4401, limit: 4429, serverError: 4500 } as const;

// While a connection waits for room, how often to look again (besides on every frame sent to it).
const RECHECK_MS = 20;

// Unsent bytes above which a connection gets no presence until it drains (then all of it at once).
const PRESENCE_BACKLOG_BYTES = 256 * 1024;

/** What the sessions of one sync server share. */
export interface SessionContext {
  readonly registry: DocumentRegistry;
  /** The largest frame a client may send. */
  readonly maxMessageBytes: number;
  readonly limits: ServerLimits;
  readonly connections: ClientConnections<Session>;
  readonly logger: Logger;
  /** The app version the server runs (`appVersionOf` its reducers). */
  readonly appVersion: number;
  /** Each document's presence, relayed between its sessions. */
  readonly presence: PresenceRooms;
}

/**
 * One client connection to one document: the handshake, then pushes and
 * page requests. Each message is handled in arrival order; a bad frame gets
 * an error and closes this connection only. While the client is over one of
 * its limits (see `ServerLimits`) the session stops reading the socket, so
 * what the client sends next waits in its own connection.
 */
export class Session implements Peer, PresenceMember {
  clientId = '';
  /** The app version the client said hello with. */
  appVersion = 0;
  private coordinator: Coordinator | undefined;
  private flow: ClientFlow | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  // Sizes of the getPages handed to the coordinator and not answered yet, oldest first (answers come in order).
  private readonly pageRequests: number[] = [];
  // The reducer names this connection's pushes used (a push may repeat the previous one with "").
  private readonly names = new ReducerNames();
  // The keys of the last object its pushes sent whole (a push may repeat them, see reducer-args.ts).
  private readonly keys = new ArgKeys();
  private pagesInFlight = 0;
  // Set once the hello is accepted: the document's presence room and this connection's bounds in it.
  private presence: { room: PresenceRoom; quota: PresenceQuota } | undefined;
  private waiting: { ready: () => boolean; done: () => void } | undefined;
  private backlogTimer: ReturnType<typeof setTimeout> | undefined;
  private logger: Logger;

  constructor(
    private readonly socket: SessionSocket,
    private readonly docId: string,
    readonly userId: string | undefined,
    private readonly context: SessionContext,
  ) {
    this.logger = context.logger.child({ docId });
    socket.on('message', (data, isBinary) => {
      this.chain = this.chain
        .then(() => this.receive(data as Buffer | Buffer[] | ArrayBuffer, isBinary))
        // receive() answers bad input itself; anything that still escapes is a server bug, and must not
        // become an unhandled rejection (which ends a Node process).
        .catch((error: unknown) => this.internalError(error));
    });
    socket.on('close', (code, reason) => {
      this.logger.info({ code, reason: reason.toString() }, 'connection closed');
      this.dispose();
    });
    socket.on('error', () => this.dispose());
  }

  get maxMessageBytes(): number {
    return this.context.maxMessageBytes;
  }

  get backlogged(): boolean {
    return this.socket.bufferedAmount > PRESENCE_BACKLOG_BYTES;
  }

  send(frame: ServerFrame): void {
    if (this.closed) return;
    if (frame.type === 'pages' && this.pageRequests.length > 0) this.pagesInFlight -= this.pageRequests.shift()!;
    this.socket.send(frame.bytes);
    if (this.socket.bufferedAmount > this.context.limits.maxBufferedBytes) this.watchBacklog();
    this.recheck();
  }

  sendError(code: string, message: string, seq: number, fatal: boolean): void {
    if (this.closed) return;
    this.socket.send(encodeMessage({ type: 'error', code, message, seq, fatal }));
    this.logger.info({ code, seq, fatal }, `${fatal ? 'closing the connection: ' : ''}${message}`);
    if (fatal) this.close(closeCodeFor(code), code);
  }

  private async receive(data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return this.sendError('malformed_frame', 'text frames are not part of the Quire protocol — send binary frames', 0, true);
    let message: ClientMessage;
    try {
      message = decodeClientMessage(bytes, { maxBytes: this.maxMessageBytes, keys: this.keys });
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : 'malformed_frame';
      return this.sendError(code, error instanceof Error ? error.message : String(error), 0, true);
    }
    try {
      if (message.type === 'hello') await this.hello(message);
      else if (!this.coordinator) this.sendError('unexpected_message', `${message.type} before hello — send hello first`, 0, true);
      else if (message.type === 'getPages') await this.getPages(this.coordinator, message.id, message.pgnos);
      else if (message.type === 'forget') this.coordinator.forget(this, message.pgnos.map((p) => p.pgno));
      else if (message.type === 'setPresence') this.setPresence(message.states);
      else await this.push(this.coordinator, this.flow!, this.named(message.mutations));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      this.sendError(typeof code === 'string' ? code : 'server_error', error instanceof Error ? error.message : String(error), 0, true);
    }
  }

  private async hello(message: Extract<ClientMessage, { type: 'hello' }>): Promise<void> {
    if (this.clientId) return this.sendError('unexpected_message', 'a second hello on one connection — open a new connection instead', 0, true);
    if (message.protocolVersion !== PROTOCOL_VERSION) {
      return this.sendError('unsupported_version', `client speaks protocol ${message.protocolVersion}, this server speaks ${PROTOCOL_VERSION} — upgrade the older side`, 0, true);
    }
    if (!isValidClientId(message.clientId)) {
      return this.sendError('invalid_client_id', `clientId "${message.clientId.slice(0, 200)}" is not valid — ${ID_RULE}`, 0, true);
    }
    this.clientId = message.clientId;
    this.logger = this.logger.child({ clientId: this.clientId });
    const { connections, limits, registry, appVersion: serverVersion } = this.context;
    // Before the document opens: nothing of a client newer than the server is applied or queued.
    const outdated = serverOutdated(message.appVersion, serverVersion);
    if (outdated) {
      this.logger.info({ appVersion: message.appVersion, serverAppVersion: serverVersion }, 'refused a client of a newer app version: it waits for a server of its version');
      return this.sendError(outdated.code, outdated.message, 0, true);
    }
    this.appVersion = message.appVersion;
    const coordinator = await registry.acquire(this.docId);
    if (this.closed) {
      registry.release(this.docId, coordinator);
      return;
    }
    this.coordinator = coordinator;
    // Before the connection counts: a refused hello must not close the owner's connections.
    const owner = this.userId === undefined ? undefined : await registry.claimClient(this.docId, this.clientId, this.userId);
    // With several nodes the claim went to the bucket; the client may have left meanwhile.
    if (this.closed) return;
    if (owner !== this.userId) {
      return this.sendError(
        'client_id_taken',
        `client id "${this.clientId}" of document "${this.docId}" belongs to another user — use a client id of your own: clear this client's local state (its stored replica keeps the client id), or let createClient pick a new one`,
        0,
        true,
      );
    }
    for (const older of connections.add(this.docId, this.clientId, this)) {
      older.sendError(
        'too_many_connections',
        `client "${this.clientId}" opened more than ${limits.maxConnectionsPerClient} connections to document "${this.docId}", so its oldest one is closed — open one connection per client (the tabs of a browser share one through the Quire worker), or raise limits.maxConnectionsPerClient on the server`,
        0,
        true,
      );
    }
    this.flow = acquireFlow(coordinator, this.clientId, limits);
    this.presence = { room: this.context.presence.join(this.docId, this), quota: new PresenceQuota(limits) };
    this.logger.info({ userId: this.userId, lastLsn: message.lastLsn, partial: message.partial, appVersion: this.appVersion }, 'client connected');
    if (this.appVersion < serverVersion) {
      this.logger.info({ appVersion: this.appVersion, serverAppVersion: serverVersion }, 'a client of an older app version connected: its calls of reducers this version lacks are refused with update_required');
    }
    coordinator.join(this, message.lastLsn, message.fromSeq, message.partial, message.held.map((p) => p.pgno));
  }

  /** The pushed mutations with their reducer names: "" repeats the previous one's (in frame order, before any wait). */
  private named(mutations: readonly Mutation[]): Mutation[] {
    return mutations.map((m) => ({ seq: m.seq, name: this.names.unpack(m.name, m.seq), args: m.args }));
  }

  /** Hands the push to the coordinator; where the client reaches a queue limit, waits for room and goes on. */
  private async push(coordinator: Coordinator, flow: ClientFlow, mutations: readonly Mutation[]): Promise<void> {
    for (let at = 0; ; ) {
      const held = coordinator.push(this, mutations, at, (m) => flow.admit(m));
      if (held === undefined) return;
      at = held;
      const next = mutations[at]!;
      await this.waitUntil(
        () => flow.fits(next),
        () => (flow.queued >= this.context.limits.maxQueuedMutations ? 'maxQueuedMutations' : 'maxQueuedBytes'),
      );
      if (this.closed) return;
    }
  }

  /** Relays the states within bounds; one over them gets its sender a non-fatal error and is dropped. */
  private setPresence(states: readonly WirePresenceState[]): void {
    const { room, quota } = this.presence!;
    for (const { key, state } of states) {
      if (key > MAX_PRESENCE_KEY) return this.sendError('malformed_frame', `setPresence: key ${key} is above ${MAX_PRESENCE_KEY} — use keys 0..${MAX_PRESENCE_KEY}`, 0, true);
      const refused = quota.check(key, Buffer.byteLength(state));
      if (refused) {
        if (refused.tell) this.sendError(refused.code, refused.message, 0, false);
        continue;
      }
      if (state !== '' && !isJsonText(state)) return this.sendError('malformed_frame', `setPresence: the state under key ${key} is not JSON text — send JSON.stringify(state), or "" to clear it`, 0, true);
      room.set(this, key, state);
    }
  }

  private async getPages(coordinator: Coordinator, id: number, pgnos: ReadonlyArray<{ pgno: number }>): Promise<void> {
    const { maxPagesInFlight, maxBufferedBytes } = this.context.limits;
    // There is no page 0: skipped like pages past the end (reading it would fail the whole document).
    const wanted = pgnos.slice(0, MAX_PAGES_PER_REQUEST).flatMap((p) => (p.pgno >= 1 ? [p.pgno] : []));
    // Each answer is real work (reads and deflate): let other connections' frames in between.
    await new Promise((resolve) => setImmediate(resolve));
    const backlogged = () => this.socket.bufferedAmount > maxBufferedBytes;
    await this.waitUntil(
      () => (this.pageRequests.length === 0 || this.pagesInFlight + wanted.length <= maxPagesInFlight) && !backlogged(),
      () => (backlogged() ? 'maxBufferedBytes' : 'maxPagesInFlight'),
    );
    if (this.closed) return;
    coordinator.readPages(this, id, wanted);
    this.pageRequests.push(wanted.length);
    this.pagesInFlight += wanted.length;
  }

  /**
   * Resolves once `ready()` holds or the session closed; the socket is not read meanwhile.
   * `limit` names the limit the client is at, for the debug log (why a client's requests wait).
   */
  private waitUntil(ready: () => boolean, limit: () => keyof ServerLimits): Promise<void> {
    if (ready()) return Promise.resolve();
    this.socket.pause();
    const at = limit();
    const since = Date.now();
    this.logger.debug({ limit: at }, `stopped reading the connection: the client is at limits.${at}`);
    return new Promise((resolve) => {
      const timer = setInterval(() => this.recheck(), RECHECK_MS);
      this.waiting = {
        ready,
        done: () => {
          clearInterval(timer);
          this.waiting = undefined;
          if (!this.closed) {
            this.logger.debug({ limit: at, pausedMs: Date.now() - since }, 'reading the connection again');
            this.socket.resume();
          }
          // Through the event loop: other connections' frames get read before this one goes on.
          setImmediate(resolve);
        },
      };
    });
  }

  private recheck(): void {
    const waiting = this.waiting;
    if (waiting && (this.closed || waiting.ready())) waiting.done();
  }

  /** Above maxBufferedBytes: close the connection if the backlog has not shrunk slowConsumerMs later. */
  private watchBacklog(): void {
    const { maxBufferedBytes, slowConsumerMs } = this.context.limits;
    if (this.backlogTimer || !Number.isFinite(slowConsumerMs)) return;
    const before = this.socket.bufferedAmount;
    this.backlogTimer = setTimeout(() => {
      this.backlogTimer = undefined;
      const now = this.socket.bufferedAmount;
      if (this.closed || now <= maxBufferedBytes) return;
      if (now < before) return this.watchBacklog();
      this.sendError(
        'slow_consumer',
        `${now} bytes wait to be sent to this connection (the limit is ${maxBufferedBytes}) and they did not shrink in ${slowConsumerMs} ms — read what the server sends; reconnect to start over`,
        0,
        true,
      );
      // The close frame would wait behind the backlog the client does not read.
      this.socket.terminate();
    }, slowConsumerMs);
    this.backlogTimer.unref?.();
  }

  private internalError(error: unknown): void {
    this.logger.error({ err: error }, 'internal error on a connection');
    try {
      this.sendError('server_error', `internal error: ${error instanceof Error ? error.message : String(error)} — reconnect`, 0, true);
    } catch {
      this.socket.terminate();
      this.dispose();
    }
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.socket.close(code, reason.slice(0, 100));
    this.dispose();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.backlogTimer);
    this.recheck();
    if (this.clientId) this.context.connections.remove(this.docId, this.clientId, this);
    if (this.presence) this.context.presence.leave(this.docId, this);
    if (this.coordinator) {
      this.coordinator.leave(this);
      releaseFlow(this.coordinator, this.clientId);
      this.context.registry.release(this.docId, this.coordinator);
    }
  }
}

function closeCodeFor(code: string): number {
  if (code === 'unauthorized' || code === 'client_id_taken') return CLOSE.unauthorized;
  if (code === 'server_error' || code === 'document_unavailable' || code === 'document_moved' || code === 'server_outdated') return CLOSE.serverError;
  if (code === 'too_many_connections' || code === 'slow_consumer') return CLOSE.limit;
  return CLOSE.protocolError;
}

// One flow per client and document, shared by the client's connections, while
// it has mutations queued or a connection.
const flows = new WeakMap<Coordinator, Map<string, { flow: ClientFlow; users: number }>>();

function acquireFlow(coordinator: Coordinator, clientId: string, limits: ServerLimits): ClientFlow {
  let byClient = flows.get(coordinator);
  if (!byClient) flows.set(coordinator, (byClient = new Map()));
  let entry = byClient.get(clientId);
  if (!entry) {
    const lastSeq = lastSeqReader(coordinator);
    byClient.set(clientId, (entry = { flow: new ClientFlow(limits, () => lastSeq(clientId)), users: 0 }));
  }
  entry.users++;
  return entry.flow;
}

function releaseFlow(coordinator: Coordinator, clientId: string): void {
  const byClient = flows.get(coordinator);
  const entry = byClient?.get(clientId);
  if (!byClient || !entry) return;
  entry.users--;
  if (entry.users > 0) return;
  // Safe to forget only with nothing queued: a new flow then counts from last_seq.
  entry.flow.refresh();
  if (entry.flow.queued === 0) byClient.delete(clientId);
}

const lastSeqReaders = new WeakMap<Coordinator, (clientId: string) => number>();

function lastSeqReader(coordinator: Coordinator): (clientId: string) => number {
  let read = lastSeqReaders.get(coordinator);
  if (!read) {
    const statement = coordinator.read((db) => db.prepare(`SELECT last_seq FROM ${CLIENTS_TABLE} WHERE client_id = ?`).pluck());
    read = (clientId) => {
      try {
        return (statement.get(clientId) as number | undefined) ?? 0;
      } catch {
        // The document closed under us; the connection is about to close too.
        return 0;
      }
    };
    lastSeqReaders.set(coordinator, read);
  }
  return read;
}
