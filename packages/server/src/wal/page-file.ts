import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * One read-only handle per database file, kept open until released. Closing
 * any descriptor of a file drops every POSIX lock the process holds on it,
 * including the SHARED lock SQLite keeps on a WAL-mode database for as long as
 * it is open; without that lock another process closing the database would
 * think it was the last user, checkpoint and delete the live WAL.
 */
const handles = new Map<string, { fd: number; dev: number; ino: number }>();

/**
 * Reads page images from the main database file (after a checkpoint the db
 * file holds them), for serving pages not in the WAL. Returns exactly
 * `pageCount` pages; pages past the end of the file (still only in the WAL)
 * read as zeros.
 */
export function readDbFilePages(dbPath: string, pageCount: number, pageSize = 4096): Uint8Array {
  const image = new Uint8Array(pageCount * pageSize);
  readFully(dbFileHandle(dbPath), image, 0);
  return image;
}

/**
 * Reads chosen pages from the main database file, one positional read per
 * run of consecutive page numbers. Pages past the end of the file read as zeros.
 */
export function readDbFilePagesAt(dbPath: string, pgnos: readonly number[], pageSize = 4096): Map<number, Uint8Array> {
  const fd = dbFileHandle(dbPath);
  const sorted = [...new Set(pgnos)].sort((a, b) => a - b);
  const out = new Map<number, Uint8Array>();
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[j - 1]! + 1) j++;
    const run = new Uint8Array((j - i) * pageSize);
    readFully(fd, run, (sorted[i]! - 1) * pageSize);
    for (let k = i; k < j; k++) out.set(sorted[k]!, run.subarray((k - i) * pageSize, (k - i + 1) * pageSize));
    i = j;
  }
  return out;
}

/** Closes the handle readDbFilePages keeps for `dbPath`. Call only once SQLite has closed the database. */
export function releaseDbFile(dbPath: string): void {
  const key = resolve(dbPath);
  const handle = handles.get(key);
  if (!handle) return;
  handles.delete(key);
  closeSync(handle.fd);
}

function dbFileHandle(dbPath: string): number {
  const key = resolve(dbPath);
  const handle = handles.get(key);
  if (handle) {
    // By path, so checking does not open (and close) another descriptor.
    const now = statSync(key, { throwIfNoEntry: false });
    if (now && now.dev === handle.dev && now.ino === handle.ino) return handle.fd;
    // The file was deleted or replaced (a document recreated): that inode is no longer SQLite's.
    releaseDbFile(key);
  }
  const fd = openSync(key, 'r');
  const { dev, ino } = fstatSync(fd);
  handles.set(key, { fd, dev, ino });
  return fd;
}

/** Reads until `into` is full or the file ends; returns the bytes read. */
export function readFully(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
