import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineReducers } from '@quire/core';
import type { CommitLog } from '../log/commit-log.js';
import { silentLogger } from '../../test/memory-logger.js';
import { Coordinator } from './coordinator.js';

test('a document that fails to open closes its commit log (each reconnect retries the open)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-coordinator-'));
  let closed = 0;
  // A log with a commit, next to a volume that never had one: the open must fail.
  const log: CommitLog = {
    open: async () => ({
      last: { lsn: 1, pageCount: 2, settled: [], rejections: [], volume: { salt1: 1, salt2: 2, offset: 4096 } },
      rejections: [],
      recent: [],
    }),
    append: async () => {},
    readAfter: async function* () {},
    close: async () => void closed++,
  };
  try {
    await expect(Coordinator.open({ docId: 'doc', dir, reducers: defineReducers({}), log, logger: silentLogger })).rejects.toMatchObject({ code: 'corrupt_volume' });
    expect(closed).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
