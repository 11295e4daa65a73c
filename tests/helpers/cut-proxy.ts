import { type AddressInfo, type Server, type Socket, createServer, connect } from 'node:net';

export type Direction = 'up' | 'down';

interface Pair {
  client: Socket;
  server: Socket;
  /** Server→client bytes held back while the proxy is paused. */
  held: Buffer[];
  dead: boolean;
}

interface ArmedCut {
  direction: Direction;
  /** Bytes still allowed through before the cut. */
  remaining: number;
  resolve(cut: boolean): void;
}

/**
 * A TCP proxy on 127.0.0.1 that can cut every connection through it, both
 * directions at once, optionally after a given number of further bytes (so
 * the cut lands mid-frame). `up` is client→server, `down` server→client.
 */
export class CutProxy {
  /** Cuts that destroyed at least one live connection. */
  cuts = 0;
  /** Cuts that happened inside a chunk (part of it was forwarded). */
  midChunkCuts = 0;
  /** Connections accepted (and not refused while blocked). */
  accepted = 0;
  readonly bytes = { up: 0, down: 0 };
  private readonly pairs = new Set<Pair>();
  private armed: ArmedCut | undefined;
  private blocked = false;
  private paused = false;
  private stalled = false;
  /** Between an armed cut firing and the sockets going: nothing more is forwarded. */
  private cutting = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Starts a proxy to `target` (`ws://127.0.0.1:1234` or a port). */
  static async start(target: string | number): Promise<CutProxy> {
    const targetPort = typeof target === 'number' ? target : Number(new URL(target).port);
    let proxy: CutProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new CutProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Live connections through the proxy. */
  get live(): number {
    let n = 0;
    for (const pair of this.pairs) if (!pair.dead) n++;
    return n;
  }

  /** Destroys every live connection, both directions. Returns how many. */
  cut(): number {
    let n = 0;
    for (const pair of [...this.pairs]) if (this.kill(pair)) n++;
    if (n > 0) this.cuts++;
    return n;
  }

  /**
   * Lets `afterBytes` more bytes through in `direction`, then cuts everything.
   * Resolves true when the cut happened, false if it was disarmed first.
   */
  cutAfter(direction: Direction, afterBytes: number): Promise<boolean> {
    this.armed?.resolve(false);
    return new Promise((resolve) => {
      this.armed = { direction, remaining: Math.max(0, afterBytes), resolve };
    });
  }

  disarm(): void {
    this.armed?.resolve(false);
    this.armed = undefined;
  }

  /** While blocked, new connections are accepted and destroyed at once. */
  block(blocked: boolean): void {
    this.blocked = blocked;
  }

  /** While paused, server→client bytes are held back (and lost if the connection is cut). */
  pauseDown(paused: boolean): void {
    this.paused = paused;
    if (paused) return;
    for (const pair of this.pairs) {
      for (const chunk of pair.held.splice(0)) if (!pair.dead) pair.client.write(chunk);
    }
  }

  /**
   * While stalled, bytes in both directions are dropped and nothing is
   * closed: to each end the connection looks alive and silent, as a
   * half-open TCP connection does (a peer that vanished without a FIN).
   */
  stall(stalled: boolean): void {
    this.stalled = stalled;
  }

  async close(): Promise<void> {
    this.disarm();
    for (const pair of [...this.pairs]) this.kill(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    client.setNoDelay(true);
    if (this.blocked) {
      client.destroy();
      return;
    }
    this.accepted++;
    const server = connect(targetPort, '127.0.0.1');
    server.setNoDelay(true);
    const pair: Pair = { client, server, held: [], dead: false };
    this.pairs.add(pair);
    client.on('data', (chunk: Buffer) => this.forward(pair, 'up', chunk));
    server.on('data', (chunk: Buffer) => this.forward(pair, 'down', chunk));
    for (const socket of [client, server]) {
      socket.on('error', () => this.kill(pair));
      socket.on('close', () => this.kill(pair));
    }
  }

  private forward(pair: Pair, direction: Direction, chunk: Buffer): void {
    if (pair.dead || this.cutting || this.stalled) return;
    const armed = this.armed;
    if (armed && armed.direction === direction && chunk.length > armed.remaining) {
      // Forward only the first part of the chunk, then cut everything.
      const head = chunk.subarray(0, armed.remaining);
      this.armed = undefined;
      this.cutting = true;
      const finish = () => {
        this.cutting = false;
        armed.resolve(this.cut() > 0);
      };
      if (head.length === 0) return finish();
      this.midChunkCuts++;
      // Cut once the head has reached the kernel, so the peer sees a torn frame.
      this.write(pair, direction, head, finish);
      return;
    }
    if (armed && armed.direction === direction) armed.remaining -= chunk.length;
    this.write(pair, direction, chunk);
  }

  private write(pair: Pair, direction: Direction, chunk: Buffer, done?: () => void): void {
    this.bytes[direction] += chunk.length;
    if (direction === 'down' && this.paused) {
      pair.held.push(Buffer.from(chunk));
      done?.();
      return;
    }
    const target = direction === 'up' ? pair.server : pair.client;
    if (done) target.write(chunk, () => done());
    else target.write(chunk);
  }

  private kill(pair: Pair): boolean {
    if (pair.dead) {
      this.pairs.delete(pair);
      return false;
    }
    pair.dead = true;
    pair.held.length = 0;
    pair.client.destroy();
    pair.server.destroy();
    this.pairs.delete(pair);
    return true;
  }
}
