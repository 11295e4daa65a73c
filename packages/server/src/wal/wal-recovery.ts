import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, rmSync } from 'node:fs';
import { QuireError } from '@quire/core';
import { type WalPosition, readWalHeader, walFrames, walStart } from './wal-capture.js';
import { WAL_HEADER } from './wal-format.js';

/**
 * Crash recovery, run BEFORE opening the db: discard WAL content committed
 * after `durable` (the last position the caller made durable elsewhere).
 *
 * Same salts as `durable`: truncate the WAL to `durable.offset`. Different
 * salts: the WAL restarted after `durable`, so everything up to it was already
 * checkpointed into the db file; truncate to 0. `durable` null: truncate to 0.
 * Deletes the -shm file when anything was truncated. Returns how many bytes
 * were discarded.
 *
 * This can only undo what is still in the WAL: the caller must never
 * checkpoint commits that are not yet durable.
 */
export function rollbackWalTo(walPath: string, durable: WalPosition | null): { discardedBytes: number } {
  if (!walPath.endsWith('-wal')) throw new QuireError('internal', `${walPath} is not a WAL file name (<db>-wal)`);
  let fd: number;
  try {
    fd = openSync(walPath, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { discardedBytes: 0 };
    throw error;
  }
  let discardedBytes: number;
  try {
    const fileBytes = fstatSync(fd).size;
    const header = readWalHeader(fd);
    const sameGeneration = durable !== null && header !== null && header.salt1 === durable.salt1 && header.salt2 === durable.salt2;
    const keep = sameGeneration ? durable.offset : 0;
    if (sameGeneration && !endsACommit(fd, durable.offset)) {
      // Truncating here would leave SQLite a log that stops short of, or in
      // the middle of, a transaction the caller already acknowledged.
      throw new QuireError('corrupt_volume', `${walPath} (${fileBytes} bytes) has no commit ending at durable offset ${durable.offset} — restore the document from a backup`);
    }
    discardedBytes = fileBytes - keep;
    if (discardedBytes === 0) return { discardedBytes };
    ftruncateSync(fd, keep);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The wal-index describes frames that no longer exist; SQLite rebuilds it from the WAL.
  rmSync(`${walPath.slice(0, -'wal'.length)}shm`, { force: true });
  return { discardedBytes };
}

/** Whether the WAL at `walPath` is of `mark`'s generation (same salts) and has a commit ending exactly at its offset. */
export function walHoldsCommit(walPath: string, mark: WalPosition): boolean {
  let fd: number;
  try {
    fd = openSync(walPath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    const header = readWalHeader(fd);
    return header !== null && header.salt1 === mark.salt1 && header.salt2 === mark.salt2 && endsACommit(fd, mark.offset);
  } finally {
    closeSync(fd);
  }
}

/** Whether the valid frame chain has a commit frame ending exactly at `offset` (or `offset` is the empty log). */
function endsACommit(fd: number, offset: number): boolean {
  const header = readWalHeader(fd);
  if (!header) return false;
  if (offset === WAL_HEADER.sizeBytes) return true;
  for (const frame of walFrames(fd, header, walStart(header))) {
    if (frame.next.offset > offset) return false;
    if (frame.next.offset === offset) return frame.header.dbSizePagesAfterCommit !== 0;
  }
  return false;
}
