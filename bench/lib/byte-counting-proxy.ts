import { type AddressInfo, createServer, type Server, connect } from 'node:net';

/** A loopback TCP proxy that counts every byte in both directions, headers included. */
export class ByteCountingProxy {
  bytes = 0;
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(upstreamPort: number): Promise<ByteCountingProxy> {
    let proxy!: ByteCountingProxy;
    const server = createServer((client) => {
      const upstream = connect(upstreamPort, '127.0.0.1');
      client.on('data', (d) => void (proxy.bytes += d.length));
      upstream.on('data', (d) => void (proxy.bytes += d.length));
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

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
