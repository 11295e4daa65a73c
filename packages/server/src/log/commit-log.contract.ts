import { expect, test } from 'vitest';
import type { CommitLog, CommitRecord } from './commit-log.js';

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
}
