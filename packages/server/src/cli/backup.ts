import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { QuireError } from '@quire/core';
import { type BackedUpDocument, writeManifest } from './backup-manifest.js';
import { documentFolders } from './document-folders.js';
import { type CopiedLog, copyClientOwners, copyLogFiles, fsync, openCopiedLog } from './log-copy.js';
import { Progress, type ProgressOutput } from './progress.js';

/** Tries at a consistent copy of one document before giving up: each retry follows a compaction that removed a file mid-copy. */
const ATTEMPTS = 5;

export interface BackupOptions {
  /** Only this document. */
  docId?: string | undefined;
  /** The summary: a line per document, then a total. */
  write: (line: string) => void;
  progress: ProgressOutput;
}

/**
 * `quire backup <dataDir> <dest> [docId]`: copies each document's commit log
 * (the durable truth; its database file is a cache rebuilt from it) into
 * `dest`, safe while a server runs: each copy ends at a whole commit, and
 * one that a compaction cut short is taken again. Refuses, writing
 * nothing, a missing data directory, one without documents, and a
 * destination that is not empty or lies inside the data directory. Exit 1
 * when a document could not be copied (the others are, and are listed).
 */
export async function backup(dataDir: string, dest: string, options: BackupOptions): Promise<number> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new QuireError('path_not_found', `data directory ${dataDir} does not exist — pass the folder given to quire serve --data`);
  }
  const inside = relative(dataDir, dest);
  if (inside === '' || (!inside.startsWith(`..${sep}`) && inside !== '..' && !inside.startsWith(sep))) {
    throw new QuireError('target_not_empty', `the backup destination ${dest} is inside the data directory ${dataDir} — put backups elsewhere`);
  }
  if (existsSync(dest) && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    throw new QuireError('target_not_empty', `the backup destination ${dest} already exists and is not an empty folder — name a new folder for each backup`);
  }
  const folders = documentFolders(dataDir, options.docId, 'backup');
  if (folders.length === 0) throw new QuireError('path_not_found', `no documents in ${dataDir} — pass the folder given to quire serve --data`);

  await mkdir(dest, { recursive: true });
  const progress = new Progress(options.progress, folders.length);
  const done: BackedUpDocument[] = [];
  const failed: Array<{ docId: string; error: string }> = [];
  for (const { docId, dir } of folders) {
    try {
      const copied = await backupDocument(dir, dest, docId);
      done.push({ docId, ...copied });
      options.write(`${docId}: LSN ${copied.lsn} (checkpoint at ${copied.checkpointLsn ?? 'none'}, log ${copied.logBytes} bytes)`);
    } catch (error) {
      failed.push({ docId, error: (error as Error).message });
      progress.note(`${docId}: failed — ${(error as Error).message}`);
    }
    progress.tick(`${done.length} copied${failed.length ? `, ${failed.length} failed` : ''}`);
  }
  await writeManifest(dest, { format: 1, createdAt: new Date().toISOString(), source: dataDir, documents: done });
  options.write(`backed up ${done.length} document(s) to ${dest}${failed.length ? `; ${failed.length} failed: ${failed.map((f) => f.docId).join(', ')}` : ''}`);
  return failed.length > 0 ? 1 : 0;
}

/** Copies one document into `<dest>/<docId>`, through a folder no server or CLI takes for a document until it is whole. */
async function backupDocument(dir: string, dest: string, docId: string): Promise<CopiedLog> {
  const partial = join(dest, `.partial-${docId}`);
  for (let attempt = 1; ; attempt++) {
    await rm(partial, { recursive: true, force: true });
    try {
      await copyLogFiles(dir, partial);
      const copied = await openCopiedLog(partial);
      await copyClientOwners(dir, partial);
      await rename(partial, join(dest, docId));
      await fsync(dest);
      return copied;
    } catch (error) {
      // A file compaction removed mid-copy (ENOENT), or segments that no longer meet the checkpoint copied before them.
      const raced = (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as QuireError).code === 'corrupt_log';
      if (!raced || attempt === ATTEMPTS) {
        await rm(partial, { recursive: true, force: true });
        throw error;
      }
    }
  }
}
