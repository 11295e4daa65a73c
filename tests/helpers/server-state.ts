import { expect } from 'vitest';
import type { Reducers, Row } from '@quire/core';
import type { SyncServer } from '@quire/server';
import { expectSamePages, waitForSettled, type Harness } from './sync-harness.js';

export type Snapshot = Awaited<ReturnType<SyncServer<Reducers>['snapshot']>>;

/** Asserts two server snapshots are the same document: same LSN, same page count, same bytes. */
export function expectSameSnapshot(after: Snapshot, before: Snapshot, what: string): void {
  expect(after.lsn, `${what}: LSN`).toBe(before.lsn);
  expect(after.pageCount, `${what}: page count`).toBe(before.pageCount);
  const differing = after.pages.filter((p, i) => Buffer.compare(Buffer.from(p.data), Buffer.from(before.pages[i]!.data)) !== 0).map((p) => p.pgno);
  expect(differing, `${what}: pages that changed`).toEqual([]);
}

/**
 * Reads rows from the server's document through a fresh client that is
 * first checked page-for-page against the server, so the rows are the
 * server's rows.
 */
export async function serverRows<R extends Reducers, T extends Row = Row>(
  h: Harness<R>,
  sql: string,
  docId = 'doc',
  params?: Record<string, string>,
): Promise<T[]> {
  const reader = h.client({ docId, clientId: `reader_${Math.random().toString(36).slice(2, 10)}`, ...(params ? { params } : {}) });
  try {
    await waitForSettled(reader, h.server, docId);
    await expectSamePages(reader, h.server, docId);
    return await reader.query<T>(sql);
  } finally {
    await reader.close();
  }
}
