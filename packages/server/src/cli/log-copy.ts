import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLIENT_OWNERS_FILE } from '../client-owners.js';
import { CHECKPOINTS_DIR, FileCommitLog, LEGACY_FILE, SEGMENTS_DIR } from '../log/file-commit-log.js';

/** What a copied log holds, once opened as a server opens it. */
export interface CopiedLog {
  /** Its last whole commit. */
  lsn: number;
  /** Its newest checkpoint's LSN (null: none). */
  checkpointLsn: number | null;
  /** The oldest commit it still holds. */
  firstLsn: number;
  /** Segments and checkpoints, after a torn tail was cut. */
  logBytes: number;
}

/**
 * Copies a document's commit log (`from`, its folder) into `to`: its
 * checkpoints, then its segments, each file fsynced. Checkpoints are listed
 * first so that every segment listed after them reaches their LSN. Safe
 * while a server appends: a segment that was not the newest when listed is
 * sealed, and the newest is copied up to wherever the append had got, which
 * `openCopiedLog` then cuts back to the last whole record. A file that
 * compaction removed meanwhile throws ENOENT: copy again from scratch.
 */
export async function copyLogFiles(from: string, to: string): Promise<void> {
  const files: string[] = [];
  for (const name of await names(join(from, CHECKPOINTS_DIR))) if (/^\d{20}\.qcp$/.test(name)) files.push(join(CHECKPOINTS_DIR, name));
  if (existsSync(join(from, LEGACY_FILE))) files.push(LEGACY_FILE);
  for (const name of await names(join(from, SEGMENTS_DIR))) if (/^\d{20}\.qlog$/.test(name)) files.push(join(SEGMENTS_DIR, name));
  await mkdir(join(to, CHECKPOINTS_DIR), { recursive: true });
  await mkdir(join(to, SEGMENTS_DIR), { recursive: true });
  for (const file of files) {
    await copyFile(join(from, file), join(to, file));
    await fsync(join(to, file));
  }
  await fsync(join(to, CHECKPOINTS_DIR));
  await fsync(join(to, SEGMENTS_DIR));
}

/** Opens the log in `dir` as a server would (a torn tail is cut there, unless `readOnly`), and says what it holds. */
export async function openCopiedLog(dir: string, readOnly = false): Promise<CopiedLog> {
  const log = new FileCommitLog(dir, { readOnly });
  try {
    const summary = await log.open();
    const stored = await log.storedBytes();
    const checkpointLsn = summary.checkpoint?.lsn ?? null;
    return { lsn: summary.last?.lsn ?? checkpointLsn ?? 0, checkpointLsn, firstLsn: summary.firstLsn, logBytes: stored.commits + stored.checkpoints };
  } finally {
    await log.close();
  }
}

/**
 * Copies which user owns each client id of the document (only with
 * `authorize`), through SQLite's online backup: a consistent copy while a
 * server writes to it. Without it, any user could claim a restored
 * document's client ids.
 */
export async function copyClientOwners(from: string, to: string): Promise<void> {
  const source = join(from, CLIENT_OWNERS_FILE);
  if (!existsSync(source)) return;
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(join(to, CLIENT_OWNERS_FILE));
  } finally {
    db.close();
  }
  await fsync(join(to, CLIENT_OWNERS_FILE));
}

/** Makes a file's bytes, or a folder's entries, durable. */
export async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}
