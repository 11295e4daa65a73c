import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { pageAnswerFilter } from './page-answer-filter.js';

/**
 * A TCP proxy on 127.0.0.1 in front of the demo server, giving one browser
 * context its own origin. It counts the sync WebSockets that reach the server
 * (wherever the browser opens them: page, worker or shared worker) and can
 * refuse them, to take that context offline while pages still load.
 *
 * Only the first request on each connection is inspected: Chromium never
 * reuses a keep-alive HTTP connection for a WebSocket handshake.
 */
export interface SyncGate {
  /** `http://127.0.0.1:<gate port>/` */
  readonly origin: string;
  /** Sync WebSocket handshakes passed to the server so far. */
  readonly syncOpened: number;
  /** Sync WebSocket connections open right now. */
  readonly syncOpen: number;
  /** Closes the open sync connections and refuses new ones (HTTP still passes). */
  block(): void;
  unblock(): void;
  /**
   * Withholds the server's `pages` answers on sync sockets (commits and the
   * rest still pass) until `holdPageAnswers(false)`; a withheld answer is
   * lost with its connection. Makes "a page was still on its way" certain.
   */
  holdPageAnswers(hold?: boolean): void;
  /** Page answers withheld so far. */
  readonly pageAnswersWithheld: number;
  close(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';
const MAX_HEADER = 64 * 1024;

export async function startSyncGate(targetPort: number, syncPath = '/sync'): Promise<SyncGate> {
  const all = new Set<Socket>();
  const syncPairs = new Set<Socket>();
  let opened = 0;
  let blocked = false;
  let holdingPages = false;
  let withheld = 0;

  const server: Server = createServer((client) => {
    all.add(client);
    client.once('close', () => all.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      if (!text.includes(HEADER_END)) {
        if (head.length > MAX_HEADER) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      const [requestLine = ''] = text.split('\r\n', 1);
      const path = requestLine.split(' ')[1] ?? '';
      const isSync = new URL(path, 'http://x').pathname === syncPath && /^upgrade:\s*websocket\s*$/im.test(text);
      if (isSync && blocked) {
        client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      all.add(upstream);
      upstream.once('close', () => {
        all.delete(upstream);
        client.destroy();
      });
      client.once('close', () => upstream.destroy());
      upstream.on('error', () => upstream.destroy());
      if (isSync) {
        opened++;
        syncPairs.add(client);
        client.once('close', () => syncPairs.delete(client));
      }
      upstream.write(head);
      client.pipe(upstream);
      if (isSync) {
        const filter = pageAnswerFilter(
          () => holdingPages,
          () => withheld++,
        );
        upstream.pipe(filter).pipe(client);
      } else {
        upstream.pipe(client);
      }
      client.resume();
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    origin,
    get syncOpened() {
      return opened;
    },
    get syncOpen() {
      return syncPairs.size;
    },
    block() {
      blocked = true;
      for (const socket of syncPairs) socket.destroy();
    },
    unblock() {
      blocked = false;
    },
    holdPageAnswers(hold = true) {
      holdingPages = hold;
    },
    get pageAnswersWithheld() {
      return withheld;
    },
    close() {
      for (const socket of all) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
