/** What the coordinator does with a client's mutation, by its seq. */
export type SeqVerdict = 'resend' | 'next' | 'gap';

/**
 * Each client's seqs in one document, and the one home of the seq rule.
 *
 * A client numbers its mutations 1, 2, 3, … A mutation whose seq is at or
 * below the highest one applied (`__quire_clients.last_seq`) or queued is a
 * resend, skipped: that is what makes a resend after a reconnect apply
 * exactly once. The next one must be exactly one higher. Anything else is a
 * gap, never accepted: the client resends from its oldest pending mutation.
 *
 * The one exception is `settledBelow`: a client's hello says every seq below
 * its oldest pending one is settled, and the document goes on from there.
 */
export class ClientSeqs {
  private readonly byClient = new Map<string, { applied: number; queued: number }>();

  constructor(
    /** The client's `last_seq` in the document; read once, when the client is first seen. */
    private readonly readLastSeq: (clientId: string) => number,
  ) {}

  /** The seq the client's next new mutation must have. */
  expected(clientId: string): number {
    const { applied, queued } = this.state(clientId);
    return Math.max(applied, queued) + 1;
  }

  verdict(clientId: string, seq: number): SeqVerdict {
    const expected = this.expected(clientId);
    if (seq >= 1 && seq < expected) return 'resend';
    return seq === expected ? 'next' : 'gap';
  }

  /** The mutation `seq`, whose verdict was 'next', went into the queue. */
  queued(clientId: string, seq: number): void {
    this.state(clientId).queued = seq;
  }

  /**
   * The client's hello says its seqs below `fromSeq` (its oldest pending
   * mutation) are settled: it was told each was applied or rejected, and
   * no longer has them. When that is past what this document applied or
   * queued, the document lost commits the client was told of (a log that
   * acknowledged before it was durable, or a folder restored from a
   * backup). Nothing can bring those back, so they are skipped: refusing
   * the next seq as a gap would make the client resend it forever.
   * Returns the seq that was expected, when any were skipped.
   */
  settledBelow(clientId: string, fromSeq: number): number | undefined {
    const expected = this.expected(clientId);
    if (fromSeq <= expected) return undefined;
    this.state(clientId).applied = fromSeq - 1;
    return expected;
  }

  /** A commit settled the client's mutations up to `lastSeq` (applied or rejected). */
  applied(clientId: string, lastSeq: number): void {
    this.state(clientId).applied = lastSeq;
  }

  private state(clientId: string): { applied: number; queued: number } {
    let state = this.byClient.get(clientId);
    if (!state) this.byClient.set(clientId, (state = { applied: this.readLastSeq(clientId), queued: 0 }));
    return state;
  }
}
