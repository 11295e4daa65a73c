import { setTimeout as sleep } from 'node:timers/promises';
import type { QuireError, Reducers } from '@quire/core';
import { appVersionOf, migrationsOf } from '@quire/core/internal';
import { pino } from 'pino';
import type { Logger } from '../logger.js';
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

// The lease check counts a whole TTL: look a little after it.
const RECHECK_MARGIN_MS = 100;

interface Tally {
  migrated: number;
  current: number;
  failed: Array<{ docId: string; reason: string; code: string }>;
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
  // Held documents whose hold lapses if the holder is gone: looked at once more at the end.
  const recheck: Array<{ docId: string; at: number }> = [];
  let visited = 0;
  for (const id of docIds) {
    if (output.signal?.aborted) break;
    visited++;
    const outcome = await visit(source, id, reducers, logger);
    record(tally, progress, id, outcome);
    if (outcome.kind === 'held' && outcome.recheckInMs !== undefined) recheck.push({ docId: id, at: performance.now() + outcome.recheckInMs });
    progress.tick(counts(tally));
  }
  progress.end();
  if (recheck.length > 0 && !output.signal?.aborted) await recheckHeld(source, reducers, logger, recheck, tally, progress, output.signal);
  const left = docIds.length - visited;
  output.write(`schema version ${target} (app version ${appVersionOf(reducers)}): ${docIds.length} document(s) in ${source.where}`);
  output.write(`  migrated         ${tally.migrated}`);
  output.write(`  already current  ${tally.current}`);
  output.write(`  failed           ${tally.failed.length}`);
  for (const { docId: id, reason } of tally.failed) output.write(`    ${id}: ${reason}`);
  output.write(`  skipped          ${tally.skipped.length}${tally.skipped.length > 0 ? ' (held by a running server: it migrates them when it opens them if it runs this app version; a server of an older version refuses the documents migrated now, with schema_too_new, until it runs this one)' : ''}`);
  for (const { docId: id } of tally.skipped) output.write(`    ${id}`);
  if (left > 0) output.write(`  not visited      ${left} (stopped) — run the same command again to finish`);
  for (const advice of adviceFor(tally.failed.map((f) => f.code))) output.write(advice);
  return tally.failed.length > 0 || tally.skipped.length > 0 || left > 0 ? 1 : 0;
}

/** What to do about the failures, once per cause. */
function adviceFor(codes: readonly string[]): string[] {
  const advice: string[] = [];
  if (codes.includes('migration_failed')) advice.push('Fix the failing migration step (one not deployed anywhere yet may still change) and run quire migrate again: documents already migrated are left alone.');
  if (codes.includes('schema_too_new')) advice.push('Some documents were migrated by a newer version of the app than this one: run quire migrate with the newest version (the one your servers run).');
  if (codes.some((code) => code !== 'migration_failed' && code !== 'schema_too_new')) advice.push('Run quire migrate again once the cause of the other failures above is fixed: documents already migrated are left alone.');
  return advice;
}

type Outcome = { kind: 'migrated' } | { kind: 'current' } | { kind: 'failed'; reason: string; code: string } | { kind: 'held'; reason: string; recheckInMs?: number };

/** Opens one document (which migrates it), notes what happened, and closes it. */
async function visit(source: DocumentSource, docId: string, reducers: Reducers, logger: Logger): Promise<Outcome> {
  let opened: OpenedDocument | undefined;
  try {
    opened = await source.open(docId, reducers, logger);
    if (opened.kind === 'held') return opened;
    const { migrationFailure, migrated } = opened.coordinator;
    if (migrationFailure) return { kind: 'failed', reason: migrationFailure.message, code: migrationFailure.code };
    return { kind: migrated ? 'migrated' : 'current' };
  } catch (error) {
    return { kind: 'failed', reason: failureReason(error as QuireError), code: (error as QuireError).code ?? 'error' };
  } finally {
    if (opened?.kind === 'open') await opened.close();
  }
}

function record(tally: Tally, progress: Progress, docId: string, outcome: Outcome): void {
  if (outcome.kind === 'migrated') tally.migrated++;
  else if (outcome.kind === 'current') tally.current++;
  else {
    if (outcome.kind === 'held') tally.skipped.push({ docId, reason: outcome.reason });
    else tally.failed.push({ docId, reason: outcome.reason, code: outcome.code });
    progress.note(`${docId}: ${outcome.kind === 'held' ? 'skipped' : 'failed'} — ${outcome.reason}`);
  }
}

/**
 * A lease held by a node that died stays in the bucket until someone takes
 * it over, which a node may do once it has seen it unchanged for its TTL. So
 * held documents are looked at again once that has passed: a live holder
 * has renewed its lease by then (still skipped), a dead one has not.
 */
async function recheckHeld(
  source: DocumentSource,
  reducers: Reducers,
  logger: Logger,
  held: Array<{ docId: string; at: number }>,
  tally: Tally,
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<void> {
  const waitMs = Math.max(0, ...held.map((h) => h.at - performance.now())) + RECHECK_MARGIN_MS;
  progress.note(`waiting ${(waitMs / 1000).toFixed(1)} s to look at the ${held.length} skipped document(s) again: a lease that is not renewed by then belongs to a node that is gone`);
  try {
    await sleep(waitMs, undefined, signal ? { signal } : {});
  } catch {
    return; // Ctrl-C: they stay skipped.
  }
  for (const { docId } of held) {
    if (signal?.aborted) return;
    const outcome = await visit(source, docId, reducers, logger);
    if (outcome.kind === 'held') continue;
    tally.skipped = tally.skipped.filter((s) => s.docId !== docId);
    record(tally, progress, docId, outcome);
    if (outcome.kind !== 'failed') progress.note(`${docId}: ${outcome.kind === 'migrated' ? 'migrated' : 'already current'} (its lease was not renewed: the node that held it is gone)`);
  }
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
