import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineReducers } from '@quire/core';
import { PageEncoding, siblingOf } from '@quire/core/internal';
import { type CommitMessage, decodeServerMessage } from '@quire/core/protocol';
import { FileCommitLog } from '../log/file-commit-log.js';
import { silentLogger } from '../../test/memory-logger.js';
import { Coordinator, type Peer } from './coordinator.js';
import type { ServerFrame } from './server-frame.js';

// Keys inserted in the middle of an index: its leaves fill up and rebalance with their siblings.
const reducers = defineReducers({
  add: (tx, { k }: { k: string }) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (k TEXT PRIMARY KEY, v TEXT)');
    tx.exec('INSERT INTO items VALUES (?, ?)', [k, `value of ${k}`]);
  },
});
const key = (i: number) => `k${String((i * 7919) % 1000).padStart(4, '0')}-${'x'.repeat(40)}`;
const CALLS = 400;

function peer(clientId: string) {
  const frames: ServerFrame[] = [];
  const p: Peer = { clientId, userId: undefined, maxMessageBytes: 1 << 20, send: (frame) => void frames.push(frame), sendError: () => {} };
  const commits = () => frames.filter((f) => f.type === 'commit').map((f) => decodeServerMessage(f.bytes) as CommitMessage);
  return { p, frames, commits };
}

/** Runs the same calls on a fresh document; `before(lsn)` runs before the call that makes commit `lsn`. */
async function run(before: (coordinator: Coordinator, lsn: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quire-sibling-'));
  const coordinator = await Coordinator.open({ docId: 'doc', dir, reducers, log: new FileCommitLog(join(dir, 'log')), logger: silentLogger });
  const writer = peer('w');
  try {
    coordinator.join(writer.p, 0, 0);
    for (let seq = 1; seq <= CALLS; seq++) {
      await before(coordinator, seq);
      coordinator.push(writer.p, [{ seq, name: 'add', args: JSON.stringify({ json: { k: key(seq) } }) }]);
      await coordinator.snapshot();
    }
  } finally {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a rebalanced page goes to full replicas as a delta from its sibling too, and whole to a partial one that lacks the sibling', async () => {
  // First run: a full replica's commits, to find a page sent from a sibling.
  const full = peer('f');
  await run(async (coordinator, lsn) => {
    if (lsn === 1) coordinator.join(full.p, 0, 0);
  });
  const commits = full.commits();
  const found = commits.flatMap((c) => c.pages.filter((p) => p.encoding === PageEncoding.copyWith).map((p) => ({ lsn: c.lsn, pgno: p.pgno, sibling: siblingOf(p)!, bytes: p.data.length })));
  expect(found.length).toBeGreaterThan(0);
  const { lsn, pgno, sibling, bytes } = found[0]!;
  // A rebalance moves about half a page of cells: from the sibling, a few dozen bytes.
  expect(bytes).toBeLessThan(300);

  // Second run, the same calls: partial replicas join just before that commit, one holding the page and its sibling, one the page only.
  const both = peer('both');
  const alone = peer('alone');
  let expected: Uint8Array | undefined;
  await run(async (coordinator, at) => {
    if (at === lsn) {
      coordinator.join(both.p, lsn - 1, 0, true, [pgno, sibling]);
      coordinator.join(alone.p, lsn - 1, 0, true, [pgno]);
      // Joined before the call is pushed (joins wait their turn between batches).
      await coordinator.snapshot();
    }
    if (at === lsn + 1) expected = (await coordinator.snapshot()).pages.find((p) => p.pgno === pgno)!.data;
  });
  const pageIn = (x: ReturnType<typeof peer>) => x.commits().find((c) => c.lsn === lsn)!.pages.find((p) => p.pgno === pgno)!;
  expect(pageIn(both).encoding).toBe(PageEncoding.copyWith);
  const whole = pageIn(alone);
  expect(whole.encoding).toBe(PageEncoding.image);
  expect(whole.data).toEqual(expected);
});
