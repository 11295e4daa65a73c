import type { RejectionRecord } from '../log/commit-log.js';

const PER_CLIENT = 1000;

/**
 * Recent rejections by client, so a client that missed the commit carrying
 * its rejection (it was offline) still learns why when it reconnects.
 */
export class RejectionIndex {
  private readonly byClient = new Map<string, Map<number, RejectionRecord>>();

  add(rejection: RejectionRecord): void {
    let forClient = this.byClient.get(rejection.clientId);
    if (!forClient) this.byClient.set(rejection.clientId, (forClient = new Map()));
    forClient.set(rejection.seq, rejection);
    if (forClient.size > PER_CLIENT) forClient.delete(forClient.keys().next().value as number);
  }

  /** Rejections of `clientId` with `seq >= fromSeq`; older ones are forgotten (the client settled them). */
  since(clientId: string, fromSeq: number): RejectionRecord[] {
    const forClient = this.byClient.get(clientId);
    if (!forClient) return [];
    const out: RejectionRecord[] = [];
    for (const [seq, rejection] of forClient) {
      if (fromSeq === 0 || seq < fromSeq) forClient.delete(seq);
      else out.push(rejection);
    }
    if (forClient.size === 0) this.byClient.delete(clientId);
    return out;
  }
}
