import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defineReducers } from '@quire/core';
import { DocumentRegistry } from './document-registry.js';
import type { CommitLog } from './log/commit-log.js';
import { LEVEL, memoryLogger } from '../test/memory-logger.js';

test('a document that keeps failing to open is reported and then refused for a while, not reopened on every connection', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-registry-'));
  const { logger, lines } = memoryLogger();
  let opens = 0;
  const broken = (): CommitLog => ({
    open: async () => {
      opens++;
      throw new Error('the log bucket is gone');
    },
    append: async () => {},
    readAfter: async function* () {},
    writeCheckpoint: async () => {},
    readCheckpoint: async function* () {},
    compact: async () => ({ commitsRemoved: 0, checkpointsRemoved: 0 }),
    close: async () => {},
  });
  const registry = new DocumentRegistry({ dataDir, reducers: defineReducers({}), logger, commitLog: broken });
  try {
    await expect(registry.acquire('doc')).rejects.toThrow('the log bucket is gone');
    await expect(registry.acquire('doc')).rejects.toThrow('the log bucket is gone');
    // The second failure in a row: the next attempt waits a second.
    await expect(registry.acquire('doc')).rejects.toMatchObject({ code: 'document_unavailable', message: expect.stringMatching(/failed 2 time\(s\) in a row; the server tries to open it again in 1 s — reconnect later/) });
    expect(opens).toBe(2);
    const reports = lines.filter((l) => l.level === LEVEL.error);
    expect(reports.map((l) => [l.msg, l.docId, (l.err as { message: string }).message, l.failures])).toEqual([
      ['document failed to open', 'doc', 'the log bucket is gone', 1],
      ['document failed to open', 'doc', 'the log bucket is gone', 2],
    ]);
    expect(reports[1]!.retryInMs).toBeGreaterThan(900);
  } finally {
    await registry.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
