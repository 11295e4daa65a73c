/**
 * This client's mutation numbers, 1, 2, 3, …: the last one assigned, how far
 * the store holds them (durable), and how far the server settled them.
 */
export class SeqLedger {
  // Seqs can be assigned once a stored replica has loaded (at once without a store).
  private known: boolean;
  private assigned = 0;
  // A mutation is sent only once it is durable, or a crash could reuse a seq
  // the server already applied. Without a store every seq counts as durable.
  private durable: number;
  // The highest seq the server settled, as the base recorded it; the store hears of each rise.
  private settled = 0;

  constructor(persistent: boolean) {
    this.known = !persistent;
    this.durable = persistent ? 0 : Number.POSITIVE_INFINITY;
  }

  /** False while a stored replica loads: its seqs come first. */
  get ready(): boolean {
    return this.known;
  }

  assign(): number {
    return ++this.assigned;
  }

  /** The store holds `seq`; writes complete in call order, so everything below it too. */
  markDurable(seq: number): void {
    this.durable = Math.max(this.durable, seq);
  }

  isDurable(seq: number): boolean {
    return seq <= this.durable;
  }

  /** The server settled every seq up to `seq`; true if that is news. */
  settle(seq: number): boolean {
    if (seq <= this.settled) return false;
    this.settled = seq;
    return true;
  }

  /**
   * A stored replica loaded: new seqs start above everything the server may
   * have applied, what the store saw settled and what it still queues.
   */
  resume(highestPending: number): void {
    this.assigned = Math.max(this.settled, highestPending);
    this.durable = this.assigned;
    this.known = true;
  }

  /** The store is unusable: the replica runs in memory. */
  keepInMemory(): void {
    this.durable = Number.POSITIVE_INFINITY;
    this.known = true;
  }
}
