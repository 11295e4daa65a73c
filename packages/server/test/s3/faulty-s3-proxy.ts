import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does with one request:
 * - `pass`: forward it and its answer;
 * - `answer-500`: forward it (RGW does it), then answer 500 instead of RGW's answer;
 * - `drop-answer`: forward it, then cut the connection instead of answering;
 * - `hang`: never forward and never answer.
 */
export type Fault = 'pass' | 'answer-500' | 'drop-answer' | 'hang';

export interface SeenRequest {
  method: string;
  path: string;
  /** RGW's status; undefined for `hang`. */
  status?: number | undefined;
}

/**
 * An HTTP proxy in front of the real RGW that breaks answers on purpose:
 * the way to see what a log does when RGW's answer to a conditional PUT is
 * a 500, or is lost after the write happened. Requests pass unchanged
 * (Host included), so their signatures still hold.
 */
export class FaultyS3Proxy {
  readonly seen: SeenRequest[] = [];
  fault: (request: { method: string; path: string }) => Fault = () => 'pass';
  /** Awaited before a request is forwarded: holds it back while a test makes something happen first. */
  hold: (request: { method: string; path: string }) => Promise<void> | void = () => {};
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => this.forward(req, res));
  }

  static async start(target: string): Promise<FaultyS3Proxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FaultyS3Proxy(server, new URL(target));
  }

  get endpoint(): string {
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  /** The requests seen with this method, e.g. every GET. */
  count(method: string): number {
    return this.seen.filter((r) => r.method === method).length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/' };
    this.seen.push(seen);
    const fault = this.fault(seen);
    if (fault === 'hang') return;
    void Promise.resolve(this.hold(seen)).then(
      () => this.send(req, res, seen, fault),
      () => res.socket?.destroy(),
    );
  }

  private send(req: IncomingMessage, res: ServerResponse, seen: SeenRequest, fault: Fault): void {
    const upstream = httpRequest({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      seen.status = answer.statusCode;
      if (fault === 'pass') {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      answer.resume();
      answer.on('end', () => {
        if (fault === 'drop-answer') return void res.socket?.destroy();
        const body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by FaultyS3Proxy</Message></Error>';
        res.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  }
}
