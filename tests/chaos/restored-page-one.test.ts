import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { FileStore } from '@quire/core';
import { ledgerReducers, type LedgerReducers } from '../helpers/ledger-reducers.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';

/*
 * Found by the crash loop (./crash-loop.test.ts), fixed in a82e923: pages
 * restored from a FileStore came back as Node Buffers, whose slice() is a
 * view, so the page-1 header rewrite meant for SQLite (WAL flags, change
 * counter) landed in the base. SQLite never saw it, which is why only a
 * byte-for-byte comparison with the server catches it.
 */

let h: Harness<LedgerReducers>;
let dir: string;
beforeEach(async () => {
  h = await startHarness(ledgerReducers);
  dir = mkdtempSync(join(tmpdir(), 'quire-restored-page-one-'));
});
afterEach(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a replica restored from a FileStore is byte for byte the server's document, page 1 included, after SQLite has read it", async () => {
  const path = join(dir, 'a.quire');
  const first = h.client({ clientId: 'a', store: await FileStore.open(path) });
  await first.mutate.init().server;
  await first.mutate.append({ id: 'a-1', client: 'a', n: 1, padBytes: 0 }).server;
  await waitForSettled(first, h.server);
  await expectSamePages(first, h.server);
  await first.close();

  // Offline: nothing from the server replaces the restored pages.
  const restored = h.client({ clientId: 'a', store: await FileStore.open(path), offline: true });
  await restored.ready();
  expect(await restored.query('SELECT id, client, n FROM entries')).toEqual([{ id: 'a-1', client: 'a', n: 1 }]);
  await expectSamePages(restored, h.server);
});
