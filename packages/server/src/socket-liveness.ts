import type { WebSocket } from 'ws';

/** Default for `pingIntervalMs`: a socket is closed 4 to 6 s after its last sign of life. */
export const DEFAULT_PING_INTERVAL_MS = 2000;

/**
 * Notices connections that died without a close (a half-open TCP
 * connection: a killed laptop, a dropped NAT mapping), which would otherwise
 * hold their presence and their place until the kernel gives up, minutes
 * later. One timer for every socket: each sweep pings the sockets not heard
 * from since the last one (a frame or a pong counts), and terminates those
 * already pinged then and still silent. So a dead socket goes two to three
 * intervals after its last sign of life. Runs in the thread that
 * owns the sockets (with workers, the main thread); a client answers pings
 * by itself (browsers and `ws` do, below the application).
 */
export class SocketLiveness {
  private readonly heard = new WeakSet<WebSocket>();
  private readonly pinged = new WeakSet<WebSocket>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSweep = 0;

  constructor(
    private readonly sockets: Iterable<WebSocket>,
    private readonly intervalMs: number,
    /** Called before a dead socket is terminated; it was silent for at least `silentMs`. */
    private readonly onDead: (socket: WebSocket, silentMs: number) => void,
  ) {}

  watch(socket: WebSocket): void {
    const alive = () => this.heard.add(socket);
    socket.on('pong', alive);
    socket.on('message', alive);
    this.heard.add(socket);
  }

  start(): void {
    if (this.timer || !Number.isFinite(this.intervalMs)) return;
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    // A sweep that comes late found the thread blocked: the pongs of that
    // time are still unread, so it judges nobody.
    const now = performance.now();
    const late = this.lastSweep > 0 && now - this.lastSweep > 2 * this.intervalMs;
    this.lastSweep = now;
    const suspects: WebSocket[] = [];
    for (const socket of this.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > 0) {
        // A ping would wait behind the backlog, and so would its pong: a slow
        // reader is not a dead one. The slow-consumer rule (limits.maxBufferedBytes,
        // slowConsumerMs) judges a connection with unsent data.
        this.pinged.delete(socket);
      } else if (this.heard.has(socket)) {
        this.heard.delete(socket);
        this.pinged.delete(socket);
      } else if (this.pinged.has(socket)) {
        if (!late) suspects.push(socket);
      } else {
        this.pinged.add(socket);
        socket.ping();
      }
    }
    if (suspects.length === 0) return;
    // Judged after this turn's I/O: timers run before the poll phase, so a
    // pong that came in meanwhile is read first.
    setImmediate(() => {
      for (const socket of suspects) {
        if (this.heard.has(socket) || socket.readyState !== socket.OPEN || socket.bufferedAmount > 0) continue;
        this.onDead(socket, 2 * this.intervalMs);
        socket.terminate();
      }
    });
  }
}
