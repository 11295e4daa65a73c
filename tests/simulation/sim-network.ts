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
    this.link.cut();
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
 * part of one), and the network can cut the link at any byte.
 */
export class SimLink {
  readonly id: number;
  readonly client: SimEnd;
  readonly server: SimEnd;
  readonly queued: Record<Direction, Array<Buffer | null>> = { up: [], down: [] };
  closed = false;

  constructor(id: number, private readonly onChange: () => void) {
    this.id = id;
    this.client = new SimEnd(this, 'up');
    this.server = new SimEnd(this, 'down');
    this.client.peer = this.server;
    this.server.peer = this.client;
  }

  enqueue(direction: Direction, chunk: Buffer | null): void {
    if (this.closed) return;
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
      target.push(null);
      return true;
    }
    if (bytes < chunk.length) {
      queue[0] = chunk.subarray(bytes);
      target.push(chunk.subarray(0, bytes));
    } else {
      queue.shift();
      target.push(chunk);
    }
    return true;
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
}

/**
 * An in-memory network between real Quire clients and a real sync server:
 * the server's HTTP upgrade handling and ws framing run unchanged over
 * streams whose bytes move only when the caller delivers them.
 */
export class SimNetwork {
  readonly links: SimLink[] = [];
  private readonly http: Server = createServer();
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  /** Pass to `syncServer.attach()`. */
  get httpServer(): Server {
    return this.http;
  }

  /** For `createClient({ url: 'ws://sim/', WebSocket: network.WebSocket })`. */
  get WebSocket(): WebSocketConstructor {
    const network = this;
    return class SimWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { createConnection: () => network.connect().client as never });
      }
    } as unknown as WebSocketConstructor;
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

  private connect(): SimLink {
    const link = new SimLink(this.nextId++, () => {
      for (const listener of [...this.listeners]) listener();
    });
    this.links.push(link);
    this.http.emit('connection', link.server);
    return link;
  }
}
