import type { QuireError, Reducers } from '@quire/core';
import { appVersionOf, migrationsOf } from '@quire/core/internal';
import { pino } from 'pino';
import { Coordinator } from '../coordinator/coordinator.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import { documentFolders } from './document-folders.js';
import { Progress, type ProgressOutput } from './progress.js';

export interface MigrateOutput {
  /** The summary. */
  write(line: string): void;
  /** Progress and per-document problems, as they happen. */
  progress: ProgressOutput;
  /** Once aborted, no further document is opened: the summary says how many were left. */
  signal?: AbortSignal;
}

interface Tally {
  migrated: number;
  current: number;
  failed: Array<{ docId: string; reason: string }>;
  skipped: Array<{ docId: string; reason: string }>;
}

/**
 * `quire migrate --reducers app.ts <dataDir> [docId]`: opens each document
 * with the app as the server would, which runs the migrations it lacks as
 * one commit (see `Coordinator.open`), waits until that is durable, and
 * closes it. A document a running server holds is skipped (its lock); one
 * a newer app migrated fails with `schema_too_new`. Stopped at any point,
 * it can simply be run again: a document's version rows commit with its
 * migration, so each document migrates once. Exit code 1 when a document
 * failed or was skipped.
 */
export async function migrate(dataDir: string, docId: string | undefined, reducers: Reducers, output: MigrateOutput): Promise<number> {
  const folders = documentFolders(dataDir, docId);
  const target = migrationsOf(reducers).length;
  const tally: Tally = { migrated: 0, current: 0, failed: [], skipped: [] };
  const progress = new Progress(output.progress, folders.length);
  const logger = pino({ enabled: false });
  let visited = 0;
  for (const { docId: id, dir } of folders) {
    if (output.signal?.aborted) break;
    visited++;
    let coordinator: Coordinator | undefined;
    try {
      coordinator = await Coordinator.open({ docId: id, dir, reducers, log: new FileCommitLog(dir), logger });
      if (coordinator.migrationFailure) {
        tally.failed.push({ docId: id, reason: coordinator.migrationFailure.message });
        progress.note(`${id}: ${coordinator.migrationFailure.message}`);
      } else if (coordinator.migrated) tally.migrated++;
      else tally.current++;
    } catch (error) {
      const reason = (error as Error).message;
      if ((error as QuireError).code === 'document_locked') tally.skipped.push({ docId: id, reason });
      else tally.failed.push({ docId: id, reason: `[${(error as QuireError).code ?? 'error'}] ${reason}` });
      progress.note(`${id}: ${(error as QuireError).code === 'document_locked' ? 'skipped — ' : 'failed — '}${reason}`);
    } finally {
      await coordinator?.close();
    }
    progress.tick(counts(tally));
  }
  progress.end();
  const left = folders.length - visited;
  output.write(`schema version ${target} (app version ${appVersionOf(reducers)}): ${folders.length} document(s) in ${dataDir}`);
  output.write(`  migrated         ${tally.migrated}`);
  output.write(`  already current  ${tally.current}`);
  output.write(`  failed           ${tally.failed.length}`);
  for (const { docId: id, reason } of tally.failed) output.write(`    ${id}: ${reason}`);
  output.write(`  skipped          ${tally.skipped.length}${tally.skipped.length > 0 ? ' (open in a running server, which migrates them when it opens them with this app)' : ''}`);
  for (const { docId: id } of tally.skipped) output.write(`    ${id}`);
  if (left > 0) output.write(`  not visited      ${left} (stopped) — run the same command again to finish`);
  if (tally.failed.length > 0) output.write('Fix the failing migration step (one not deployed anywhere yet may still change) and run quire migrate again: documents already migrated are left alone.');
  return tally.failed.length > 0 || tally.skipped.length > 0 || left > 0 ? 1 : 0;
}

function counts(tally: Tally): string {
  return `${tally.migrated} migrated, ${tally.current} current, ${tally.failed.length} failed, ${tally.skipped.length} skipped`;
}
