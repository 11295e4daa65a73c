import type { PendingMutation } from '../engine/pending-queue.js';
import { ArgKeys, ReducerNames, encodePushFrames } from '../protocol/index.js';

export interface PushTarget {
  /** True once the server welcomed the current connection. */
  connected(): boolean;
  /** The pending mutations that may be sent (the store holds them), in seq order. */
  sendable(): readonly PendingMutation[];
  /** False when the socket is not open. */
  send(frame: Uint8Array): boolean;
  /** A mutation is larger than the server accepts: it and later ones wait. */
  tooLarge(error: { code: string; message: string }): void;
}

/** Sends pending mutations once per connection, in push frames within the server's limit. */
export class MutationPusher {
  // The highest seq sent on this connection.
  private sentSeq = 0;
  // The server's frame limit, from its welcome.
  private maxMessageBytes = 0;
  private scheduled = false;
  // What the server knows of this connection's reducer names and argument keys.
  private names = new ReducerNames();
  private keys = new ArgKeys();

  constructor(private readonly target: PushTarget) {}

  /** The highest seq sent on this connection (0 before the first send). */
  get sentThrough(): number {
    return this.sentSeq;
  }

  /** A connection was welcomed: everything pending goes again. */
  restart(maxMessageBytes: number): void {
    this.sentSeq = 0;
    this.maxMessageBytes = maxMessageBytes;
    this.names = new ReducerNames();
    this.keys = new ArgKeys();
  }

  /** Sends what is new at the end of this task: calls made together travel together. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.target.connected()) return;
    const mutations = this.target
      .sendable()
      .filter((m) => m.seq > this.sentSeq)
      .map(({ seq, name, argsJson }) => ({ seq, name, args: argsJson }));
    if (mutations.length === 0) return;
    // A send fails only once the socket closed; the next connection starts afresh (restart).
    const { frames, oversized } = encodePushFrames(mutations, this.maxMessageBytes, this.names, this.keys);
    for (const frame of frames) if (!this.target.send(frame)) return;
    this.sentSeq = oversized ? oversized.seq - 1 : mutations[mutations.length - 1]!.seq;
    if (oversized) {
      // Sending it would get the connection closed; later calls wait behind it.
      this.target.tooLarge({
        code: 'mutation_too_large',
        message: `mutation ${oversized.seq} (${oversized.name}) is larger than the server's limit of ${this.maxMessageBytes} bytes — raise maxMessageBytes on the server, or store large values outside the document`,
      });
    }
  }
}
