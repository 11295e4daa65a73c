import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A TCP load balancer on 127.0.0.1, like the one in front of a deployment
 * of several server nodes: each new connection goes to the next backend in
 * turn that accepts it; dead backends are skipped. Clients know only its URL.
 */
export class Balancer {
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The backends' ports, read at each connection (tests replace nodes). */
    private readonly backends: () => number[],
  ) {
    server.on('connection', (client) => this.route(client));
  }

  static async start(backends: () => number[]): Promise<Balancer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Balancer(server, backends);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private route(client: Socket, tried = 0): void {
    this.track(client);
    client.pause();
    const ports = this.backends();
    if (tried >= ports.length) {
      client.destroy();
      return;
    }
    const port = ports[this.next++ % ports.length]!;
    const backend = connect(port, '127.0.0.1');
    backend.once('error', () => {
      // Refused: that node is down; try the next one, as a balancer's health check would.
      if (!backend.readyState.startsWith('open')) this.route(client, tried + 1);
      else client.destroy();
    });
    backend.once('connect', () => {
      this.track(backend);
      client.pipe(backend);
      backend.pipe(client);
      client.resume();
      client.on('error', () => backend.destroy());
      client.on('close', () => backend.destroy());
      backend.on('error', () => client.destroy());
      backend.on('close', () => client.destroy());
    });
  }

  private track(socket: Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
