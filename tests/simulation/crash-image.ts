import { closeSync, cpSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const PAGE = 4096;
const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;

/**
 * What a crash leaves on disk, taken while the process "dies": a copy of
 * the server's data folder as it is now. A killed process loses no write
 * that returned, so the copy is exactly the files a restart would find.
 */
export function copyAsCrashed(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/**
 * Turns a copied document folder into the state of a crash in the middle of
 * a checkpoint: SQLite copies the WAL's latest page images into the db file
 * in page order, and only then resets the WAL, so a crash leaves the first
 * `fraction` of those pages written and the WAL whole. Returns how many of
 * how many pages were written.
 */
export function halfCheckpoint(docDir: string, fraction: number): { written: number; of: number } {
  const dbPath = join(docDir, 'document.sqlite');
  const walPath = `${dbPath}-wal`;
  if (!existsSync(walPath)) return { written: 0, of: 0 };
  const latest = latestCommittedImages(readFileSync(walPath));
  const pgnos = [...latest.keys()].sort((a, b) => a - b);
  const written = Math.floor(pgnos.length * fraction);
  const fd = openSync(dbPath, 'r+');
  try {
    for (const pgno of pgnos.slice(0, written)) writeSync(fd, latest.get(pgno)!, 0, PAGE, (pgno - 1) * PAGE);
  } finally {
    closeSync(fd);
  }
  return { written, of: pgnos.length };
}

/** The newest image of each page among the WAL's committed frames (frames carry the header's salts). */
function latestCommittedImages(wal: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (wal.length < WAL_HEADER_BYTES) return out;
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let pending = new Map<number, Buffer>();
  for (let at = WAL_HEADER_BYTES; at + FRAME_HEADER_BYTES + PAGE <= wal.length; at += FRAME_HEADER_BYTES + PAGE) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    pending.set(wal.readUInt32BE(at), wal.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + PAGE));
    if (wal.readUInt32BE(at + 4) !== 0) {
      for (const [pgno, image] of pending) out.set(pgno, image);
      pending = new Map();
    }
  }
  return out;
}
