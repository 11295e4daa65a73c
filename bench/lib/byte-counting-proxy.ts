import { type AddressInfo, createServer, type Server, type Socket, connect } from 'node:net';
import type { FrameTally } from './frame-tally.js';

/**
 * A loopback TCP proxy that counts every byte in both directions on every
 * socket: the HTTP upgrade request and response, WebSocket framing, and
 * close frames included.
 */
export class ByteCountingProxy {
  /** Client to server. */
  up = 0;
  /** Server to client. */
  down = 0;
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server, readonly port: number) {}

  get bytes(): number {
    return this.up + this.down;
  }

  /** With a tally, every WebSocket frame is also counted by message type. */
  static async start(upstreamPort: number, tally?: FrameTally): Promise<ByteCountingProxy> {
    let proxy!: ByteCountingProxy;
    const server = createServer((client) => {
      proxy.connections++;
      const upstream = connect(upstreamPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        // The same small writes the peers make, not coalesced by Nagle.
        s.setNoDelay(true);
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
      }
      const up = tally?.stream('up');
      const down = tally?.stream('down');
      client.on('data', (d: Buffer) => {
        proxy.up += d.length;
        up?.(d);
      });
      upstream.on('data', (d: Buffer) => {
        proxy.down += d.length;
        down?.(d);
      });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy = new ByteCountingProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** Resolves once no byte moved for `quietMs`: every frame in flight has arrived. */
  async quiet(quietMs = 150, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = this.bytes;
    for (;;) {
      await new Promise((r) => setTimeout(r, quietMs));
      if (this.bytes === last) return;
      if (Date.now() > deadline) throw new Error('the proxy never went quiet');
      last = this.bytes;
    }
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}
