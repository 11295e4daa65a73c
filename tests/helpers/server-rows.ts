import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Reducers, Row } from '@quire/core';
import type { SyncServer } from '@quire/server';

const PAGE = 4096;

/**
 * Runs read-only queries on the server's document as the server has it: its
 * snapshot pages are written to a scratch file and opened with better-sqlite3
 * (the server's own SQLite), independent of any client. Blobs come back as
 * plain `Uint8Array`s, like on clients.
 */
export async function serverQuery<R extends Reducers>(server: SyncServer<R>, docId: string, queries: string[]): Promise<{ lsn: number; results: Row[][] }> {
  const snapshot = await server.snapshot(docId);
  const file = Buffer.alloc(snapshot.pageCount * PAGE);
  for (const { pgno, data } of snapshot.pages) file.set(data, (pgno - 1) * PAGE);
  // The server runs in WAL mode; a lone copy of the file must be opened in rollback mode.
  if (file.length > 19) file[18] = file[19] = 1;
  const dir = mkdtempSync(join(tmpdir(), 'quire-server-rows-'));
  const path = join(dir, 'copy.sqlite');
  writeFileSync(path, file);
  const db = new Database(path, { readonly: true });
  try {
    const results = queries.map((sql) => (db.prepare(sql).all() as Row[]).map(plainRow));
    return { lsn: snapshot.lsn, results };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function plainRow(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key] = Buffer.isBuffer(value) ? new Uint8Array(value) : value;
  return out;
}
