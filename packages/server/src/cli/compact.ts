import { defineReducers, QuireError } from '@quire/core';
import { Coordinator } from '../coordinator/coordinator.js';
import type { CompactionOptions } from '../coordinator/checkpoint-policy.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import { pino } from 'pino';
import { documentFolders } from './document-folders.js';

/**
 * `quire compact <dataDir> [docId]`: for each document, a log checkpoint at
 * its last commit, then compaction to the retention window. It opens each
 * document as the server does (so a stale or missing database file is
 * rebuilt first), which takes the document's lock: a document a running
 * server holds is refused (`document_locked`) and left alone. It runs no
 * migrations (it has no app): documents stay at their schema version.
 */
export async function compact(dataDir: string, docId: string | undefined, compaction: CompactionOptions, write: (line: string) => void): Promise<number> {
  const folders = documentFolders(dataDir, docId, 'compact');
  let refused = 0;
  for (const [i, { docId: id, dir }] of folders.entries()) {
    const prefix = `[${i + 1}/${folders.length}] ${id}:`;
    const log = new FileCommitLog(dir);
    let coordinator: Coordinator;
    try {
      coordinator = await Coordinator.open({ docId: id, dir, reducers: defineReducers({}), log, logger: pino({ enabled: false }), compaction, skipMigrations: true });
    } catch (error) {
      if ((error as QuireError).code !== 'document_locked') throw error;
      write(`${prefix} skipped — ${(error as Error).message}`);
      refused++;
      continue;
    }
    try {
      const before = await log.storedBytes();
      const result = await coordinator.checkpointLog();
      const after = await log.storedBytes();
      write(`${prefix} checkpoint at LSN ${result.lsn}; removed ${result.commitsRemoved} commits and ${result.checkpointsRemoved} checkpoints; log ${before.commits + before.checkpoints} → ${after.commits + after.checkpoints} bytes`);
    } finally {
      await coordinator.close();
    }
  }
  return refused > 0 ? 1 : 0;
}
