import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { QuireError } from '@quire/core';
import { CLIENT_OWNERS_FILE } from '../client-owners.js';
import { readManifest } from './backup-manifest.js';
import { copyLogFiles, fsync, openCopiedLog } from './log-copy.js';
import { Progress, type ProgressOutput } from './progress.js';

export interface RestoreOptions {
  /** Only this document of the backup. */
  docId?: string | undefined;
  write: (line: string) => void;
  progress: ProgressOutput;
}

/**
 * `quire restore <backup> <dataDir> [docId]`: puts the documents of a backup
 * (or one) into a data directory, each at the LSN the backup holds. It never
 * replaces a document: a data directory that already has one of them is
 * refused, with nothing written, as is a backup that is not whole. A
 * restored document's database file is rebuilt from its log when a server
 * first opens it.
 */
export async function restore(backupDir: string, dataDir: string, options: RestoreOptions): Promise<number> {
  if (!existsSync(backupDir) || !statSync(backupDir).isDirectory()) throw new QuireError('path_not_found', `backup ${backupDir} does not exist — name the folder quire backup wrote`);
  const manifest = readManifest(backupDir);
  const documents = options.docId === undefined ? manifest.documents : manifest.documents.filter((d) => d.docId === options.docId);
  if (documents.length === 0) {
    throw new QuireError('backup_invalid', options.docId === undefined ? `backup ${backupDir} holds no documents` : `backup ${backupDir} holds no document "${options.docId}" — it has ${manifest.documents.map((d) => d.docId).join(', ') || 'none'}`);
  }
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) throw new QuireError('target_not_empty', `${dataDir} is a file, not a data directory`);
  const present = documents.filter((d) => existsSync(join(dataDir, d.docId)));
  if (present.length > 0) {
    throw new QuireError(
      'target_not_empty',
      `${dataDir} already has ${present.length === 1 ? 'document' : 'documents'} ${present.map((d) => `"${d.docId}"`).join(', ')} — restore never replaces a document: restore into a new data directory, or move ${present.length === 1 ? 'it' : 'them'} away first (with the server stopped)`,
    );
  }

  // Each document's files must open at the LSN the backup recorded: checked before anything is written.
  for (const doc of documents) await expectLsn(join(backupDir, doc.docId), doc.lsn, doc.docId, backupDir, true);
  await mkdir(dataDir, { recursive: true });
  const progress = new Progress(options.progress, documents.length);
  for (const [i, doc] of documents.entries()) {
    // Not a valid document id: neither a server nor another command takes it for a document until it is renamed.
    const staging = join(dataDir, `.restoring-${doc.docId}`);
    await rm(staging, { recursive: true, force: true });
    try {
      await copyLogFiles(join(backupDir, doc.docId), staging);
      const owners = join(backupDir, doc.docId, CLIENT_OWNERS_FILE);
      if (existsSync(owners)) {
        await copyFile(owners, join(staging, CLIENT_OWNERS_FILE));
        await fsync(join(staging, CLIENT_OWNERS_FILE));
      }
      await expectLsn(staging, doc.lsn, doc.docId, backupDir, false);
      await rename(staging, join(dataDir, doc.docId));
      await fsync(dataDir);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      progress.end();
      throw error;
    }
    options.write(`${doc.docId}: restored at LSN ${doc.lsn}`);
    progress.tick(`${i + 1} restored`);
  }
  options.write(`restored ${documents.length} document(s) from ${backupDir} (taken ${manifest.createdAt}) into ${dataDir}`);
  return 0;
}

/** The log in `dir` must open at `lsn`, the LSN the backup recorded for the document. */
async function expectLsn(dir: string, lsn: number, docId: string, backupDir: string, readOnly: boolean): Promise<void> {
  const held = await openCopiedLog(dir, readOnly);
  if (held.lsn !== lsn) throw new QuireError('backup_invalid', `document "${docId}" in backup ${backupDir} opens at LSN ${held.lsn}, but the backup recorded LSN ${lsn}: its files were changed or damaged — use another backup`);
}
