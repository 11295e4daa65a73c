import { expect, test } from 'vitest';
import type { Checkpoint, CommitLog, CommitRecord } from './commit-log.js';
import type { PageImage } from '@quire/core/internal';

function page(pgno: number, fill: number): { pgno: number; data: Uint8Array } {
  return { pgno, data: new Uint8Array(4096).fill(fill) };
}

export function record(lsn: number, extra: Partial<CommitRecord> = {}): CommitRecord {
  return {
    lsn,
    pageCount: lsn + 1,
    pages: [page(1, lsn), page(lsn + 1, 255 - lsn)],
    settled: [{ clientId: `c${lsn}`, lastSeq: lsn * 2 }],
    rejections: [],
    volume: { salt1: 1, salt2: 2, offset: 32 + lsn * 4120 },
    ...extra,
  };
}

/**
 * The behaviour every CommitLog must have. `make` returns a log over fresh
 * storage each time it is called with a new key, and over the same storage
 * when called again with the same key (a restart).
 */
export function runCommitLogContract(name: string, make: (key: string) => CommitLog): void {
  test(`${name}: an empty log opens with nothing in it`, async () => {
    const log = make('empty');
    const summary = await log.open();
    expect(summary.last).toBeNull();
    expect(summary.checkpoint).toBeNull();
    expect(summary.firstLsn).toBe(1);
    expect(summary.rejections).toEqual([]);
    await log.close();
  });

  test(`${name}: appended commits survive a reopen, pages byte for byte`, async () => {
    const log = make('reopen');
    await log.open();
    const rejected = { clientId: 'cé', seq: 3, code: 'reducer_error', message: 'not enough money — ✗' };
    await log.append([record(1), record(2, { rejections: [rejected] })]);
    await log.append([record(3)]);
    await log.close();

    const again = make('reopen');
    const summary = await again.open();
    expect(summary.last?.lsn).toBe(3);
    expect(summary.last?.settled).toEqual([{ clientId: 'c3', lastSeq: 6 }]);
    expect(summary.rejections).toEqual([rejected]);
    // The pages each commit changed, so reconnecting clients can catch up after a restart.
    expect(summary.recent).toEqual([1, 2, 3].map((lsn) => ({ lsn, pgnos: [1, lsn + 1] })));
    const read: CommitRecord[] = [];
    for await (const r of again.readAfter(1)) read.push(r);
    expect(read.map((r) => r.lsn)).toEqual([2, 3]);
    expect(read[0]).toEqual(record(2, { rejections: [rejected] }));
    await again.close();
  });

  test(`${name}: appends must continue the LSN sequence`, async () => {
    const log = make('gap');
    await log.open();
    await log.append([record(1)]);
    await expect(log.append([record(3)])).rejects.toThrow(/does not follow/);
    await expect(log.append([record(1)])).rejects.toThrow(/does not follow/);
    await log.close();
  });

  test(`${name}: a commit with a field over its limit is refused whole, and the log stays readable`, async () => {
    const log = make('oversize');
    await log.open();
    await log.append([record(1)]);
    const huge = { clientId: 'c', seq: 1, code: 'x'.repeat(70 * 1024), message: 'refused' };
    await expect(log.append([record(2), record(3, { rejections: [huge] })])).rejects.toThrow(expect.objectContaining({ code: 'log_field_too_large' }));
    await log.append([record(2)]);
    await log.close();

    const again = make('oversize');
    expect((await again.open()).last?.lsn).toBe(2);
    await again.close();
  });

  test(`${name}: a checkpoint reads back byte for byte, with its state, and opens as the newest`, async () => {
    const log = make('checkpoint');
    await log.open();
    await log.append([record(1), record(2), record(3)]);
    const cp = checkpoint(3, 130);
    await log.writeCheckpoint(cp, checkpointPages(3, 130));
    const read: PageImage[] = [];
    for await (const page of log.readCheckpoint(cp)) read.push(page);
    expect(read).toEqual(checkpointPages(3, 130));
    await log.close();

    const again = make('checkpoint');
    const summary = await again.open();
    expect(summary.checkpoint).toEqual(cp);
    expect(summary.last?.lsn).toBe(3);
    // Rejections and recent pages of commits after the checkpoint only: the checkpoint carries the rest.
    expect(summary.rejections).toEqual([]);
    expect(summary.recent).toEqual([]);
    const pages: PageImage[] = [];
    for await (const page of again.readCheckpoint(summary.checkpoint!)) pages.push(page);
    expect(pages).toEqual(checkpointPages(3, 130));
    await again.close();
  });

  test(`${name}: after compaction the log opens with its checkpoint, its first LSN and its last commit`, async () => {
    const log = make('compact');
    await log.open();
    const rejected = { clientId: 'c', seq: 7, code: 'reducer_error', message: 'no' };
    await log.append([1, 2, 3, 4, 5].map((lsn) => record(lsn)));
    await log.writeCheckpoint(checkpoint(5, 3), checkpointPages(5, 3));
    await log.append([record(6), record(7, { rejections: [rejected] }), record(8)]);
    await log.writeCheckpoint(checkpoint(7, 4), checkpointPages(7, 4));
    const removed = await log.compact(5);
    expect(removed).toEqual({ commitsRemoved: 5, checkpointsRemoved: 1 });
    await log.close();

    const again = make('compact');
    const summary = await again.open();
    expect(summary.checkpoint).toEqual(checkpoint(7, 4));
    expect(summary.firstLsn).toBe(6);
    expect(summary.last?.lsn).toBe(8);
    expect(summary.rejections).toEqual([]);
    expect(summary.recent).toEqual([{ lsn: 8, pgnos: [1, 9] }]);
    const read: number[] = [];
    for await (const r of again.readAfter(5)) read.push(r.lsn);
    expect(read).toEqual([6, 7, 8]);
    await expect(collect(again.readAfter(4))).rejects.toMatchObject({ code: 'log_compacted' });
    await again.append([record(9)]);
    await again.close();
  });

  test(`${name}: compaction never removes the newest commit nor the newest checkpoint`, async () => {
    const log = make('keep-newest');
    await log.open();
    await log.append([record(1), record(2)]);
    await log.writeCheckpoint(checkpoint(2, 3), checkpointPages(2, 3));
    await log.compact(1_000_000);
    await log.close();

    const again = make('keep-newest');
    const summary = await again.open();
    expect(summary.last?.lsn).toBe(2);
    expect(summary.checkpoint?.lsn).toBe(2);
    expect(summary.firstLsn).toBeLessThanOrEqual(2);
    expect((await collect(again.readCheckpoint(summary.checkpoint!))).length).toBe(3);
    expect((await collect(again.readAfter(1))).map((r) => r.lsn)).toEqual([2]);
    await again.append([record(3)]);
    await again.close();
  });

  test(`${name}: compaction without a checkpoint removes nothing`, async () => {
    const log = make('no-checkpoint');
    await log.open();
    await log.append([record(1), record(2), record(3)]);
    expect(await log.compact(2)).toEqual({ commitsRemoved: 0, checkpointsRemoved: 0 });
    expect((await collect(log.readAfter(0))).map((r) => r.lsn)).toEqual([1, 2, 3]);
    await log.close();
  });

  test(`${name}: a checkpoint whose write fails part way is never taken for the newest`, async () => {
    const log = make('torn-checkpoint');
    await log.open();
    await log.append([record(1), record(2)]);
    await log.writeCheckpoint(checkpoint(1, 70), checkpointPages(1, 70));
    async function* failing(): AsyncGenerator<PageImage> {
      yield* checkpointPages(2, 70).slice(0, 66);
      throw new Error('the disk filled up');
    }
    await expect(log.writeCheckpoint(checkpoint(2, 70), failing())).rejects.toThrow('the disk filled up');
    await log.close();

    const again = make('torn-checkpoint');
    const summary = await again.open();
    expect(summary.checkpoint).toEqual(checkpoint(1, 70));
    expect(await collect(again.readCheckpoint(summary.checkpoint!))).toEqual(checkpointPages(1, 70));
    await again.close();
  });

  test(`${name}: a checkpoint ahead of the last commit is refused`, async () => {
    const log = make('ahead');
    await log.open();
    await log.append([record(1)]);
    await expect(log.writeCheckpoint(checkpoint(2, 1), checkpointPages(2, 1))).rejects.toThrow(/ahead/);
    await log.close();
  });
}

/** A checkpoint at `lsn` with some state of each kind. */
export function checkpoint(lsn: number, pageCount: number): Checkpoint {
  return {
    lsn,
    pageCount,
    rejections: [{ clientId: 'cé', seq: lsn, code: 'reducer_error', message: `refused at ${lsn} — ✗` }],
    unknownOutcomes: [{ clientId: 'old', upToSeq: 40 + lsn }],
    recent: [{ lsn, pgnos: [1, 2, pageCount] }],
  };
}

/** Pages 1..pageCount whose bytes differ by page and by LSN (and within each page). */
export function checkpointPages(lsn: number, pageCount: number): PageImage[] {
  return Array.from({ length: pageCount }, (_, i) => {
    const data = new Uint8Array(4096);
    for (let b = 0; b < data.length; b += 97) data[b] = (lsn * 31 + i * 7 + b) & 0xff;
    return { pgno: i + 1, data };
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
