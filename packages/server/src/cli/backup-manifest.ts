import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QuireError } from '@quire/core';
import { isValidDocId } from '@quire/core/protocol';
import { fsync } from './log-copy.js';

/** The file at the top of a backup that lists its documents; written last, so a backup without it is incomplete. */
export const MANIFEST_FILE = 'quire-backup.json';
const FORMAT = 1;

/** One document in a backup. */
export interface BackedUpDocument {
  docId: string;
  /** The last commit the backup holds: a restored document opens at this LSN. */
  lsn: number;
  checkpointLsn: number | null;
  logBytes: number;
}

export interface BackupManifest {
  format: typeof FORMAT;
  /** When the backup finished (ISO 8601). */
  createdAt: string;
  /** The data directory it was taken from. */
  source: string;
  documents: BackedUpDocument[];
}

/** Writes the manifest of a finished backup: to a temporary name, fsynced, then renamed into place. */
export async function writeManifest(dir: string, manifest: BackupManifest): Promise<void> {
  const temp = join(dir, `${MANIFEST_FILE}.tmp`);
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await fsync(temp);
  await rename(temp, join(dir, MANIFEST_FILE));
  await fsync(dir);
}

/** The manifest of the backup in `dir`, or `backup_invalid` saying why it is not a whole Quire backup. */
export function readManifest(dir: string): BackupManifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    throw new QuireError('backup_invalid', `${dir} is not a finished Quire backup: it has no ${MANIFEST_FILE} (quire backup writes it last, so a backup that was stopped or failed has none) — name the folder quire backup wrote, or take the backup again`);
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  } catch (error) {
    throw new QuireError('backup_invalid', `${path} is not valid JSON (${(error as Error).message}) — take the backup again`);
  }
  if (manifest?.format !== FORMAT || !Array.isArray(manifest.documents)) {
    throw new QuireError('backup_invalid', `${path} is not a Quire backup manifest of format ${FORMAT} — restore it with the Quire version that wrote it`);
  }
  for (const doc of manifest.documents) {
    if (!isValidDocId(String(doc?.docId)) || !Number.isInteger(doc.lsn) || !existsSync(join(dir, doc.docId))) {
      throw new QuireError('backup_invalid', `${path} lists a document "${String(doc?.docId)}" that the backup does not hold — take the backup again`);
    }
  }
  return manifest;
}
