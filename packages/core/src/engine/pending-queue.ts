import { MutationRejectedError } from '../errors.js';

/** A mutation applied locally and not yet settled by the server. */
export interface PendingMutation {
  readonly seq: number;
  readonly name: string;
  readonly argsJson: string;
}

interface Entry extends PendingMutation {
  resolve(result: { lsn: number }): void;
  reject(error: Error): void;
}

export interface Rejected {
  seq: number;
  code: string;
  message: string;
}

/** The client's unconfirmed mutations, in `seq` order, with their `server` promises. */
export class PendingQueue {
  private entries: Entry[] = [];

  /** `onSettled` hears of each settled mutation (the client's inspector). */
  constructor(private readonly onSettled?: (mutation: PendingMutation, lsn: number, rejection: Rejected | undefined) => void) {}

  add(mutation: PendingMutation): Promise<{ lsn: number }> {
    return new Promise((resolve, reject) => {
      this.entries.push({ ...mutation, resolve, reject });
    });
  }

  get size(): number {
    return this.entries.length;
  }

  list(): readonly PendingMutation[] {
    return this.entries;
  }

  /** The lowest pending seq, or 0 when nothing is pending. */
  lowestSeq(): number {
    return this.entries[0]?.seq ?? 0;
  }

  /**
   * Settles every mutation with `seq <= lastSeq`: the server applied it at
   * `lsn`, unless it is listed as rejected. Returns how many settled.
   */
  settleUpTo(lastSeq: number, lsn: number, rejections: ReadonlyMap<number, Rejected>): number {
    let settled = 0;
    while (this.entries.length > 0 && this.entries[0]!.seq <= lastSeq) {
      const entry = this.entries.shift()!;
      const rejection = rejections.get(entry.seq);
      if (rejection) entry.reject(new MutationRejectedError(rejection.code, rejection.message, entry.name, entry.seq));
      else entry.resolve({ lsn });
      this.onSettled?.(entry, lsn, rejection);
      settled++;
    }
    return settled;
  }

  /** Rejects everything still pending (the client is closing). */
  failAll(error: Error): void {
    const entries = this.entries;
    this.entries = [];
    for (const entry of entries) entry.reject(error);
  }
}
