import { EventEmitter } from 'node:events';
import type { SessionSocket } from '../session-socket.js';
import type { SocketOutbox } from './socket-outbox.js';

/**
 * A client's WebSocket as a session in a document worker sees it: the real
 * one stays in the main thread, which forwards its frames and close here,
 * and carries out what the session does to it (see `SocketOutbox`).
 */
export class WorkerSocket extends EventEmitter implements SessionSocket {
  /** As last reported by the main thread (it reports changes while the socket is backlogged). */
  bufferedAmount = 0;
  private closed = false;

  constructor(
    readonly conn: number,
    private readonly outbox: SocketOutbox,
  ) {
    super();
  }

  send(data: Uint8Array): void {
    if (!this.closed) this.outbox.send(this.conn, data);
  }

  pause(): void {
    if (!this.closed) this.outbox.command({ kind: 'pause', conn: this.conn });
  }

  resume(): void {
    if (!this.closed) this.outbox.command({ kind: 'resume', conn: this.conn });
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.outbox.command({ kind: 'close', conn: this.conn, code, reason });
  }

  terminate(): void {
    if (!this.closed) this.outbox.command({ kind: 'terminate', conn: this.conn });
  }

  /** The main thread's socket delivered a frame. */
  receive(data: ArrayBuffer, binary: boolean): void {
    if (!this.closed) this.emit('message', data, binary);
  }

  /** The main thread's socket closed: nothing more goes either way. */
  closedBy(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', code, Buffer.from(reason));
  }
}
