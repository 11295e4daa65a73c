import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QuireError } from '@quire/core';
import { isValidDocId } from '@quire/core/protocol';
import { LEGACY_FILE, SEGMENTS_DIR } from '../log/file-commit-log.js';

/** The CLI commands that work on a data directory's documents. */
export type DataDirectoryCommand = 'inspect' | 'compact' | 'migrate' | 'backup';

/** How a bucket's logs are backed up, since `quire backup` copies file logs only. */
export const BACKING_UP_A_BUCKET = "back up the bucket with the store's own versioning or replication, or copy its docs/ folder with the store's tools (see docs/OPERATIONS.md)";

/** What to run instead when the data directory belongs to a server whose logs are in a bucket. */
const WITH_A_BUCKET: Record<DataDirectoryCommand, string> = {
  inspect: 'run quire inspect --s3-bucket <name> (with the server\'s --s3-endpoint and --s3-prefix) instead',
  compact: 'nothing to do: servers compact the logs in a bucket themselves',
  migrate: 'run quire migrate --reducers <file> --s3-bucket <name> (with the server\'s --s3-endpoint and --s3-prefix) instead',
  backup: BACKING_UP_A_BUCKET,
};

/**
 * The documents `command` works on: `docId`, or every document folder in
 * `dataDir`. Refuses (`log_in_bucket`), before anything is read or written,
 * a folder with a database but no commit log: a server with `--s3-bucket`
 * keeps only a cache of each database there, so its figures would be wrong
 * and a copy worthless.
 */
export function documentFolders(dataDir: string, docId: string | undefined, command: DataDirectoryCommand): Array<{ docId: string; dir: string }> {
  if (!existsSync(dataDir)) throw new QuireError('invalid_doc_id', `data directory ${dataDir} does not exist — pass the folder given to quire serve --data`);
  let folders: Array<{ docId: string; dir: string }>;
  if (docId !== undefined) {
    const dir = join(dataDir, docId);
    if (!isValidDocId(docId) || !existsSync(dir)) throw new QuireError('invalid_doc_id', `no document "${docId}" in ${dataDir} — run quire inspect ${dataDir} to list them`);
    folders = [{ docId, dir }];
  } else {
    folders = readdirSync(dataDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && isValidDocId(e.name) && [LEGACY_FILE, SEGMENTS_DIR, 'document.sqlite'].some((f) => existsSync(join(dataDir, e.name, f))))
      .map((e) => ({ docId: e.name, dir: join(dataDir, e.name) }))
      .sort((a, b) => a.docId.localeCompare(b.docId));
  }
  const cached = folders.find(({ dir }) => logInBucket(dir));
  if (cached) {
    throw new QuireError(
      'log_in_bucket',
      `document "${cached.docId}" in ${dataDir} has a database but no commit log: this is the data directory of a server with --s3-bucket, which keeps the logs in the bucket and only a cache here — ${WITH_A_BUCKET[command]}`,
    );
  }
  return folders;
}

/** A file log makes its segments folder before the database exists (`Coordinator.open` opens the log first); an S3 log makes none. */
function logInBucket(dir: string): boolean {
  return existsSync(join(dir, 'document.sqlite')) && !existsSync(join(dir, SEGMENTS_DIR)) && !existsSync(join(dir, LEGACY_FILE));
}
