import type { QuireError, Reducers } from '@quire/core';
import { appVersionOf, migrationsOf } from '@quire/core/internal';
import { pino } from 'pino';
import type { DocumentSource, OpenedDocument } from './document-source.js';
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
 * `quire migrate --reducers app.ts <dataDir> [docId]` (or `--s3-bucket …`):
 * opens each document of `source` with the app as the server would, which
 * runs the migrations it lacks as one commit (see `Coordinator.open`), waits
 * until that is durable, and closes it. A document a running server holds
 * is skipped (its lock, or its lease in a bucket); one a newer app migrated
 * fails with `schema_too_new`. Stopped at any point, it can simply be run
 * again: a document's version rows commit with its migration, so each
 * document migrates once. Exit code 1 when a document failed or was skipped.
 */
export async function migrate(source: DocumentSource, reducers: Reducers, output: MigrateOutput): Promise<number> {
  try {
    return await migrateAll(source, reducers, output);
  } finally {
    await source.close();
  }
}

async function migrateAll(source: DocumentSource, reducers: Reducers, output: MigrateOutput): Promise<number> {
  const docIds = await source.list();
  const target = migrationsOf(reducers).length;
  const tally: Tally = { migrated: 0, current: 0, failed: [], skipped: [] };
  const progress = new Progress(output.progress, docIds.length);
  const logger = pino({ enabled: false });
  let visited = 0;
  for (const id of docIds) {
    if (output.signal?.aborted) break;
    visited++;
    let opened: OpenedDocument | undefined;
    try {
      opened = await source.open(id, reducers, logger);
      if (opened.kind === 'held') {
        tally.skipped.push({ docId: id, reason: opened.reason });
        progress.note(`${id}: skipped — ${opened.reason}`);
      } else if (opened.coordinator.migrationFailure) {
        tally.failed.push({ docId: id, reason: opened.coordinator.migrationFailure.message });
        progress.note(`${id}: ${opened.coordinator.migrationFailure.message}`);
      } else if (opened.coordinator.migrated) tally.migrated++;
      else tally.current++;
    } catch (error) {
      const reason = failureReason(error as QuireError);
      tally.failed.push({ docId: id, reason });
      progress.note(`${id}: failed — ${reason}`);
    } finally {
      if (opened?.kind === 'open') await opened.close();
    }
    progress.tick(counts(tally));
  }
  progress.end();
  const left = docIds.length - visited;
  output.write(`schema version ${target} (app version ${appVersionOf(reducers)}): ${docIds.length} document(s) in ${source.where}`);
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

/** Why a document failed, for the summary: the error with its code, in the words of `quire migrate`. */
function failureReason(error: QuireError): string {
  if (error.code === 'log_fenced') {
    return '[log_fenced] a server wrote to the document while quire migrate was migrating it, and its commit won: the migration was not kept, and nothing else changed — the server migrates the document when it opens it with this app, or run quire migrate again once no server has it open';
  }
  return `[${error.code ?? 'error'}] ${error.message}`;
}

function counts(tally: Tally): string {
  return `${tally.migrated} migrated, ${tally.current} current, ${tally.failed.length} failed, ${tally.skipped.length} skipped`;
}
