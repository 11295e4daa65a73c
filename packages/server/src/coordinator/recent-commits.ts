/**
 * Which pages each recent commit changed, so a client that reconnects a few
 * commits behind gets only those pages instead of a whole snapshot.
 */
export class RecentCommits {
  private readonly entries: Array<{ lsn: number; pgnos: readonly number[] }> = [];

  constructor(private readonly capacity: number) {}

  add(lsn: number, pgnos: readonly number[]): void {
    this.entries.push({ lsn, pgnos });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** The pages changed after `lsn`, or undefined if that history is no longer kept. */
  changedSince(lsn: number, current: number): Set<number> | undefined {
    if (lsn === current) return new Set();
    const first = this.entries[0];
    if (!first || first.lsn > lsn + 1 || lsn > current) return undefined;
    const pages = new Set<number>();
    for (const entry of this.entries) if (entry.lsn > lsn) for (const pgno of entry.pgnos) pages.add(pgno);
    return pages;
  }

  /** Pages changed by the commits after `lsn` that are still kept (counted with repeats). */
  pagesAfter(lsn: number): number {
    let pages = 0;
    for (let i = this.entries.length - 1; i >= 0 && this.entries[i]!.lsn > lsn; i--) pages += this.entries[i]!.pgnos.length;
    return pages;
  }

  /** Every kept entry, oldest first (what a checkpoint carries). */
  list(): Array<{ lsn: number; pgnos: number[] }> {
    return this.entries.map(({ lsn, pgnos }) => ({ lsn, pgnos: [...pgnos] }));
  }
}
