import type { CheckpointState, RejectionRecord } from '../log/commit-log.js';

/** How many rejection records a document keeps by default (all clients together). */
export const KEEP_REJECTIONS = 10_000;

/**
 * Recent rejections by client, so a client that missed the commit carrying
 * its rejection (it was offline) still learns why when it reconnects.
 *
 * Bounded: the newest `capacity` records are kept. For each client whose
 * record was dropped it remembers the highest such seq: a reconnecting
 * client's pending mutations at or below it get `outcome_unknown` instead
 * of being taken for applied (see docs/COMMIT_LOG.md#rejections).
 */
export class RejectionIndex {
  /** Every kept record, oldest first, by `clientId \n seq`. */
  private readonly kept = new Map<string, RejectionRecord>();
  private readonly byClient = new Map<string, Map<number, RejectionRecord>>();
  private readonly unknownUpTo = new Map<string, number>();

  constructor(private readonly capacity = KEEP_REJECTIONS) {}

  /** The index as a checkpoint carries it. */
  static restore(state: Pick<CheckpointState, 'rejections' | 'unknownOutcomes'>, capacity?: number): RejectionIndex {
    const index = new RejectionIndex(capacity);
    for (const { clientId, upToSeq } of state.unknownOutcomes) index.unknownUpTo.set(clientId, upToSeq);
    for (const r of state.rejections) index.add(r);
    return index;
  }

  add(rejection: RejectionRecord): void {
    let forClient = this.byClient.get(rejection.clientId);
    if (!forClient) this.byClient.set(rejection.clientId, (forClient = new Map()));
    forClient.set(rejection.seq, rejection);
    this.kept.set(key(rejection.clientId, rejection.seq), rejection);
    while (this.kept.size > this.capacity) {
      const [oldestKey, oldest] = this.kept.entries().next().value as [string, RejectionRecord];
      this.drop(oldestKey, oldest);
      this.unknownUpTo.set(oldest.clientId, Math.max(this.unknownUpTo.get(oldest.clientId) ?? 0, oldest.seq));
    }
  }

  /**
   * Rejections of `clientId` with `seq >= fromSeq`, and `outcome_unknown`
   * for its seqs from `fromSeq` whose record may have been dropped. Older
   * ones are forgotten (the client settled them); `fromSeq` 0 means none
   * is pending.
   */
  since(clientId: string, fromSeq: number): RejectionRecord[] {
    const forClient = this.byClient.get(clientId);
    const out: RejectionRecord[] = [];
    for (const [seq, rejection] of forClient ?? []) {
      if (fromSeq === 0 || seq < fromSeq) this.drop(key(clientId, seq), rejection);
      else out.push(rejection);
    }
    const unknownUpTo = this.unknownUpTo.get(clientId) ?? 0;
    if (fromSeq === 0 || unknownUpTo < fromSeq) {
      this.unknownUpTo.delete(clientId);
      return out;
    }
    const known = new Set(out.map((r) => r.seq));
    // At most one window's worth: a client cannot have more pending than it could have had rejected.
    for (let seq = fromSeq; seq <= unknownUpTo && seq < fromSeq + this.capacity; seq++) {
      if (!known.has(seq)) out.push({ clientId, seq, code: 'outcome_unknown', message: unknownMessage(this.capacity) });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** What a checkpoint carries. */
  state(): Pick<CheckpointState, 'rejections' | 'unknownOutcomes'> {
    return {
      rejections: [...this.kept.values()],
      unknownOutcomes: [...this.unknownUpTo].map(([clientId, upToSeq]) => ({ clientId, upToSeq })),
    };
  }

  private drop(k: string, rejection: RejectionRecord): void {
    this.kept.delete(k);
    const forClient = this.byClient.get(rejection.clientId);
    forClient?.delete(rejection.seq);
    if (forClient?.size === 0) this.byClient.delete(rejection.clientId);
  }
}

function key(clientId: string, seq: number): string {
  return `${clientId}\n${seq}`;
}

function unknownMessage(capacity: number): string {
  return `the server no longer knows whether this mutation was applied or rejected: it was settled while this client was away, and the record of its outcome has left the ${capacity} most recent rejections the server keeps — check the document, and call the reducer again if its effect is missing`;
}
