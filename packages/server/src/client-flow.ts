import type { Mutation } from '@quire/core/protocol';

export interface FlowLimits {
  maxQueuedMutations: number;
  maxQueuedBytes: number;
}

/** A piece of a push to hand the coordinator now, and where the rest starts. */
export interface PushPiece {
  mutations: Mutation[];
  /** Index of the first mutation not looked at yet. */
  next: number;
  /** Nothing more of this push goes to the coordinator: it is all handed over, or it ended at a gap. */
  end: boolean;
}

/**
 * One client's mutations between its sockets and the coordinator's queue,
 * for one document. It follows the coordinator's seq rule exactly (a resend
 * is skipped, the first gap ends the push) so it knows which mutations the
 * coordinator queued, and counts them until `__quire_clients` shows them
 * applied. Every connection of the client shares it, so opening more
 * connections does not buy more room.
 */
export class ClientFlow {
  /** The highest seq handed to the coordinator: its `queued` for this client. */
  private queuedHigh = 0;
  private applied = 0;
  // Handed over and not applied yet, oldest first; `head` is the oldest still counted.
  private readonly queue: Array<{ seq: number; bytes: number }> = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly limits: FlowLimits,
    /** The client's `last_seq` in the document (applied or rejected, not necessarily durable yet). */
    private readonly readApplied: () => number,
  ) {
    this.applied = readApplied();
  }

  /** Mutations handed over and not applied yet. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /** Reads how far the document applied this client's mutations, and stops counting those. */
  refresh(): void {
    if (this.queued === 0) return;
    this.applied = Math.max(this.applied, this.readApplied());
    while (this.head < this.queue.length && this.queue[this.head]!.seq <= this.applied) {
      this.bytes -= this.queue[this.head]!.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** True when `mutation` may be handed over now (it is always allowed when nothing is queued). */
  fits(mutation: Mutation): boolean {
    this.refresh();
    return this.roomFor(sizeOf(mutation));
  }

  /** Takes the next piece of `mutations`, from index `from`, that fits within the limits. */
  take(mutations: readonly Mutation[], from: number): PushPiece {
    this.refresh();
    const piece: Mutation[] = [];
    let i = from;
    while (i < mutations.length) {
      const m = mutations[i]!;
      const high = Math.max(this.applied, this.queuedHigh);
      // A resend: the coordinator would skip it, so it need not be handed over.
      if (m.seq >= 1 && m.seq <= high) {
        i++;
        continue;
      }
      // A gap: handed over so the coordinator reports it; the rest of the push is dropped, as it would be.
      if (m.seq !== high + 1) return { mutations: [...piece, m], next: i + 1, end: true };
      const size = sizeOf(m);
      if (!this.roomFor(size)) break;
      piece.push(m);
      this.queuedHigh = m.seq;
      this.queue.push({ seq: m.seq, bytes: size });
      this.bytes += size;
      i++;
    }
    return { mutations: piece, next: i, end: i >= mutations.length };
  }

  private roomFor(size: number): boolean {
    const queued = this.queued;
    return queued === 0 || (queued < this.limits.maxQueuedMutations && this.bytes + size <= this.limits.maxQueuedBytes);
  }
}

function sizeOf(m: Mutation): number {
  return Buffer.byteLength(m.name) + Buffer.byteLength(m.args);
}
