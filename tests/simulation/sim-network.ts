import { createServer, type Server } from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '@quire/core';

type Direction = 'up' | 'down';

/** One end of an in-memory byte stream; what it writes waits in the network until delivered. */
class SimEnd extends Duplex {
  peer!: SimEnd;
  constructor(
    private readonly link: SimLink,
    private readonly direction: Direction,
  ) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.link.enqueue(this.direction, Buffer.from(chunk));
    done();
  }
  override _final(done: (error?: Error | null) => void): void {
    this.link.enqueue(this.direction, null);
    done();
  }
  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.link.endClosed(this.direction);
    done(error);
  }
  // What http.Server and ws call on a net.Socket.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  readonly remoteAddress = '127.0.0.1';
}

/**
 * A client's connection to the server, held in memory. Bytes each side
 * writes wait in order until the network delivers them (whole chunks or
 * part of one). An end that closes or whose process dies still has what it
 * wrote delivered, then an end-of-stream, as the kernel would; `cut` is a
 * reset that drops everything in flight.
 */
export class SimLink {
  readonly id: number;
  /** Who opened it (see {@link SimNetwork.webSocketFor}). */
  owner = 'client';
  readonly client: SimEnd;
  readonly server: SimEnd;
  readonly queued: Record<Direction, Array<Buffer | null>> = { up: [], down: [] };
  /** Ends that are gone: 'up' is the client's (it writes up), 'down' the server's. */
  private readonly gone = new Set<Direction>();
  closed = false;

  constructor(id: number, private readonly onChange: () => void) {
    this.id = id;
    this.client = new SimEnd(this, 'up');
    this.server = new SimEnd(this, 'down');
    this.client.peer = this.server;
    this.server.peer = this.client;
  }

  enqueue(direction: Direction, chunk: Buffer | null): void {
    if (this.closed || this.gone.has(direction)) return;
    // Nobody reads what is sent toward an end that is gone.
    if (this.gone.has(direction === 'up' ? 'down' : 'up')) return;
    this.queued[direction].push(chunk);
    this.onChange();
  }

  /** Delivers the next queued chunk in `direction`, or its first `bytes` bytes. */
  deliver(direction: Direction, bytes = Infinity): boolean {
    const queue = this.queued[direction];
    if (this.closed || queue.length === 0) return false;
    const target = direction === 'up' ? this.server : this.client;
    const chunk = queue[0]!;
    if (chunk === null) {
      queue.shift();
      if (!target.destroyed) target.push(null);
    } else if (bytes < chunk.length) {
      queue[0] = chunk.subarray(bytes);
      if (!target.destroyed) target.push(chunk.subarray(0, bytes));
    } else {
      queue.shift();
      if (!target.destroyed) target.push(chunk);
    }
    this.closeIfDone();
    return true;
  }

  /** One end was destroyed: what it wrote still goes out, then end-of-stream; nothing more reaches it. */
  endClosed(direction: Direction): void {
    if (this.closed || this.gone.has(direction)) return;
    const queue = this.queued[direction];
    if (queue[queue.length - 1] !== null) queue.push(null);
    this.gone.add(direction);
    this.queued[direction === 'up' ? 'down' : 'up'].length = 0;
    this.closeIfDone();
    this.onChange();
  }

  /** Drops what is in flight and closes both ends, like a connection reset. */
  cut(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued.up.length = 0;
    this.queued.down.length = 0;
    for (const end of [this.client, this.server]) if (!end.destroyed) end.destroy();
    this.onChange();
  }

  private closeIfDone(): void {
    if (this.gone.size === 0 || this.queued.up.length > 0 || this.queued.down.length > 0) return;
    // Both directions drained after an end went away: the other end has had its end-of-stream.
    this.closed = true;
    for (const end of [this.client, this.server]) if (!end.destroyed) end.destroy();
  }
}

/**
 * An in-memory network between real Quire clients and a real sync server:
 * the server's HTTP upgrade handling and ws framing run unchanged over
 * streams whose bytes move only when the caller delivers them.
 */
export class SimNetwork {
  readonly links: SimLink[] = [];
  /** Grows with every byte queued, link opened or link cut: unchanged means nothing moved. */
  version = 0;
  /**
   * While no server process runs: `refuse` resets a new connection at once,
   * as a refused TCP connect would; `hang` accepts it and never answers, as
   * a stuck server or proxy would.
   */
  down: 'refuse' | 'hang' | undefined;
  private readonly http: Server = createServer();
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  /** Pass to `syncServer.attach()`. */
  get httpServer(): Server {
    return this.http;
  }

  /** For `createClient({ url: 'ws://sim/', WebSocket: network.WebSocket })`. */
  get WebSocket(): WebSocketConstructor {
    return this.webSocketFor('client');
  }

  /** Like {@link WebSocket}, with every link it opens marked as `owner`'s. */
  webSocketFor(owner: string): WebSocketConstructor {
    const network = this;
    return class SimWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { createConnection: () => network.connect(owner).client as never });
      }
    } as unknown as WebSocketConstructor;
  }

  /** Cuts every open link, or those of one owner. Returns how many. */
  cutAll(owner?: string): number {
    let cut = 0;
    for (const link of this.links) {
      if (link.closed || (owner !== undefined && link.owner !== owner)) continue;
      link.cut();
      cut++;
    }
    return cut;
  }

  /**
   * A process died: the ends it held (the server's, or one client's) are
   * gone. What they wrote may still arrive; what was sent to them is lost.
   */
  processDied(owner: 'server' | string): void {
    for (const link of this.links) {
      if (link.closed) continue;
      if (owner === 'server') link.server.destroy();
      else if (link.owner === owner) link.client.destroy();
    }
  }

  /** Links with bytes waiting. */
  busy(): Array<{ link: SimLink; direction: Direction }> {
    const out: Array<{ link: SimLink; direction: Direction }> = [];
    for (const link of this.links) {
      if (link.closed) continue;
      if (link.queued.up.length > 0) out.push({ link, direction: 'up' });
      if (link.queued.down.length > 0) out.push({ link, direction: 'down' });
    }
    return out;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private connect(owner: string): SimLink {
    const link = new SimLink(this.nextId++, () => {
      this.version++;
      for (const listener of [...this.listeners]) listener();
    });
    link.owner = owner;
    this.version++;
    this.links.push(link);
    if (this.down === undefined) this.http.emit('connection', link.server);
    else if (this.down === 'refuse') process.nextTick(() => link.cut());
    return link;
  }
}
