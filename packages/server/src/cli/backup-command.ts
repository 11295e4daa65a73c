import { resolve } from 'node:path';
import { QuireError } from '@quire/core';
import { backup } from './backup.js';
import { restore } from './restore.js';

/**
 * `quire backup <dataDir> <dest> [docId]` and `quire restore <backup> <dataDir> [docId]`:
 * exit 0, 1 when refused (nothing written) or a document could not be
 * copied, 2 on bad arguments (`usageError`'s). Summary on stdout, progress on stderr.
 */
export async function runBackupCommand(command: 'backup' | 'restore', args: string[], usageError: (message: string) => number): Promise<number> {
  const [from, to, docId, ...rest] = args;
  if (!from || !to || rest.length > 0) {
    return usageError(command === 'backup' ? 'quire backup takes <dataDir> <dest> [docId]' : 'quire restore takes <backup> <dataDir> [docId]');
  }
  const options = { docId, write: (line: string) => void process.stdout.write(`${line}\n`), progress: process.stderr };
  try {
    return command === 'backup' ? await backup(resolve(from), resolve(to), options) : await restore(resolve(from), resolve(to), options);
  } catch (error) {
    if (!(error instanceof QuireError)) throw error;
    process.stderr.write(`quire: ${error.message}\n`);
    return 1;
  }
}
