import type { SocketCommand } from './worker-messages.js';

/**
 * What a document worker's sessions do to their sockets, gathered until the
 * end of the current task and posted to the main thread as one message.
 * Consecutive sends of the same frame (a broadcast) become one command with
 * a list of connections, so the frame is copied once, not once per client;
 * merging only consecutive ones keeps each connection's order.
 */
export class SocketOutbox {
  private commands: SocketCommand[] = [];
  private transfer: ArrayBuffer[] = [];
  private lastBytes: Uint8Array | undefined;

  constructor(private readonly post: (commands: SocketCommand[], transfer: ArrayBuffer[]) => void) {}

  send(conn: number, bytes: Uint8Array): void {
    const last = this.commands.at(-1);
    if (last?.kind === 'send' && this.lastBytes === bytes) {
      last.to.push(conn);
      return;
    }
    // A copy the worker can give away: the frame may be a view into a larger
    // buffer, or kept by the coordinator (a transferred buffer is emptied).
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    const frame = copy.buffer;
    this.push({ kind: 'send', frame, to: [conn] });
    this.transfer.push(frame);
    this.lastBytes = bytes;
  }

  command(command: Exclude<SocketCommand, { kind: 'send' }>): void {
    this.push(command);
    this.lastBytes = undefined;
  }

  private push(command: SocketCommand): void {
    if (this.commands.length === 0) queueMicrotask(() => this.flush());
    this.commands.push(command);
  }

  private flush(): void {
    const { commands, transfer } = this;
    this.commands = [];
    this.transfer = [];
    this.lastBytes = undefined;
    this.post(commands, transfer);
  }
}
