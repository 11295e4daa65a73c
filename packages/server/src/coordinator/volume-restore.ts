import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { QuireError } from '@quire/core';
import { PAGE_SIZE } from '@quire/core/internal';
import type { CommitLog, CommitLogSummary, VolumeMark } from '../log/commit-log.js';
import { walHoldsCommit } from '../wal/wal-recovery.js';

export const DB_FILE = 'document.sqlite';
/**
 * The sidecar that says which commit the database file holds without its
 * WAL: the WAL position (`VolumeMark`) right after that commit, written
 * after each SQLite checkpoint that copied it in. All zeros: no commit (LSN 0).
 */
export const MARK_FILE = 'document.mark';
export const NO_COMMIT: VolumeMark = { salt1: 0, salt2: 0, offset: 0 };

/**
 * Whether the volume in `dir` can open at the log's last commit, or must be
 * rebuilt from the log first (docs/COMMIT_LOG.md, "Opening a volume"):
 *
 * - no database file: rebuild (the node's disk is only a cache);
 * - the log has no commit: it opens (LSN 0);
 * - its WAL holds the last commit (same salts, a commit frame ending at the
 *   mark): it opens, and `rollbackWalTo` cuts anything after it;
 * - the sidecar names the last commit: the file holds it; it opens;
 * - a sidecar naming anything else: the file is behind (or from another
 *   history): rebuild;
 * - no sidecar (a folder written before sidecars existed): it opens, as it
 *   always did.
 */
export function volumeState(dir: string, summary: CommitLogSummary): 'opens' | 'rebuild' {
  const dbPath = join(dir, DB_FILE);
  if (!existsSync(dbPath)) return summary.last || summary.checkpoint ? 'rebuild' : 'opens';
  const last = summary.last?.volume;
  if (!last) return 'opens';
  if (walHoldsCommit(`${dbPath}-wal`, last)) return 'opens';
  const mark = readVolumeMark(dir);
  if (mark === undefined) return 'opens';
  return sameMark(mark, last) ? 'opens' : 'rebuild';
}

/**
 * Rebuilds the database file from the log alone (any `CommitLog`): the
 * newest checkpoint's pages, then every later commit's page images in
 * order, cut to the last commit's page count. Written to a temp file and
 * renamed over the old one, with the sidecar naming the last commit.
 */
export async function restoreVolume(dir: string, log: CommitLog, summary: CommitLogSummary): Promise<{ pages: number; commits: number }> {
  const checkpoint = summary.checkpoint;
  if (!checkpoint) {
    throw new QuireError('corrupt_volume', `the database file in ${dir} is missing or does not match its commit log, and the log has no checkpoint to rebuild it from — restore the document's folder from a backup`);
  }
  const dbPath = join(dir, DB_FILE);
  const temp = `${dbPath}.restoring`;
  const fd = openSync(temp, 'w');
  let pageCount = checkpoint.pageCount;
  let pages = 0;
  let commits = 0;
  try {
    for await (const page of log.readCheckpoint(checkpoint)) (writeSync(fd, page.data, 0, PAGE_SIZE, (page.pgno - 1) * PAGE_SIZE), pages++);
    for await (const commit of log.readAfter(checkpoint.lsn)) {
      for (const page of commit.pages) writeSync(fd, page.data, 0, PAGE_SIZE, (page.pgno - 1) * PAGE_SIZE);
      pageCount = commit.pageCount;
      commits++;
    }
    ftruncateSync(fd, pageCount * PAGE_SIZE);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  // The old WAL belongs to the old file (or to another node's history).
  for (const suffix of ['-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
  renameSync(temp, dbPath);
  syncDir(dir);
  writeVolumeMark(dir, summary.last?.volume ?? NO_COMMIT);
  return { pages, commits };
}

/** The sidecar's mark, or undefined when there is none. */
export function readVolumeMark(dir: string): VolumeMark | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, MARK_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { salt1, salt2, offset } = JSON.parse(text) as VolumeMark;
    if ([salt1, salt2, offset].every((n) => Number.isInteger(n) && n >= 0)) return { salt1, salt2, offset };
  } catch {
    // Unreadable: treated as naming no commit, so the volume is rebuilt rather than trusted.
  }
  return { ...NO_COMMIT, offset: -1 };
}

/**
 * Drops the database file and its WAL, so the next open rebuilds them from
 * the log: for a volume whose last connection may have closed in a way that
 * checkpointed a commit the log never made durable (a document worker that
 * died: its SQLite connections are closed for it, in no set order).
 */
export function dropVolume(dir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `${DB_FILE}${suffix}`), { force: true });
}

/** Writes the sidecar durably (temp file, fsync, rename). */
export function writeVolumeMark(dir: string, mark: VolumeMark): void {
  const path = join(dir, MARK_FILE);
  const fd = openSync(`${path}.tmp`, 'w');
  try {
    writeFileSync(fd, JSON.stringify({ salt1: mark.salt1, salt2: mark.salt2, offset: mark.offset }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
  syncDir(dir);
}

function sameMark(a: VolumeMark, b: VolumeMark): boolean {
  return a.salt1 === b.salt1 && a.salt2 === b.salt2 && a.offset === b.offset;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
