import type { Mutation } from '@quire/core/protocol';

export interface FlowLimits {
  maxQueuedMutations: number;
  maxQueuedBytes: number;
}

/**
 * How much of one client's work waits in a document's queue: the mutations
 * the coordinator queued for it, counted until `__quire_clients` shows them
 * applied. The coordinator asks `admit` before it queues each new mutation
 * (the seq rule is its own, in `ClientSeqs`). Every connection of the client
 * shares the flow, so opening more connections does not buy more room.
 */
export class ClientFlow {
  private applied = 0;
  // Queued and not applied yet, oldest first; `head` is the oldest still counted.
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

  /** Mutations queued and not applied yet (as of the last `refresh`). */
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

  /** True when `mutation` may be queued now (it always may when nothing is queued). */
  fits(mutation: Mutation): boolean {
    const size = sizeOf(mutation);
    if (this.roomFor(size)) return true;
    this.refresh();
    return this.roomFor(size);
  }

  /** Counts `mutation` as queued if it fits; false (and nothing counted) if it does not. */
  admit(mutation: Mutation): boolean {
    if (!this.fits(mutation)) return false;
    const size = sizeOf(mutation);
    this.queue.push({ seq: mutation.seq, bytes: size });
    this.bytes += size;
    return true;
  }

  private roomFor(size: number): boolean {
    const queued = this.queued;
    return queued === 0 || (queued < this.limits.maxQueuedMutations && this.bytes + size <= this.limits.maxQueuedBytes);
  }
}

function sizeOf(m: Mutation): number {
  return Buffer.byteLength(m.name) + Buffer.byteLength(m.args);
}
