import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Row } from '@quire/core';
import { openRaw } from './raw-socket.js';

const PAGE = 4096;

export interface WireSnapshot {
  lsn: number;
  pageCount: number;
  pages: Array<{ pgno: number; data: Uint8Array }>;
}

/**
 * The whole document as a server in another process holds it: a raw socket
 * says hello with no state and no pending mutations, so the server answers
 * with every page at its durable LSN (the same pages `SyncServer.snapshot`
 * returns in-process), and never records the probe as a client.
 */
export async function fetchWireSnapshot(url: string, docId: string, probeId: string): Promise<WireSnapshot> {
  const raw = await openRaw(url, docId);
  try {
    const from = raw.received.length;
    const { lsn } = await raw.hello(probeId);
    const pages: WireSnapshot['pages'] = [];
    let pageCount = -1;
    for (const m of raw.received.slice(from)) {
      if (m.type !== 'snapshot' || m.lsn !== lsn) continue;
      pages.push(...m.pages);
      pageCount = m.pageCount;
    }
    if (pageCount < 0) throw new Error(`${probeId}: no snapshot at LSN ${lsn}`);
    return { lsn, pageCount, pages };
  } finally {
    await raw.close();
  }
}

/**
 * Runs read-only queries on a snapshot with better-sqlite3 (the server's own
 * SQLite), independent of any client replica.
 */
export function querySnapshot(snapshot: WireSnapshot, queries: string[]): Row[][] {
  const file = Buffer.alloc(snapshot.pageCount * PAGE);
  for (const { pgno, data } of snapshot.pages) file.set(data, (pgno - 1) * PAGE);
  // The server runs in WAL mode; a lone copy of the file must be opened in rollback mode.
  if (file.length > 19) file[18] = file[19] = 1;
  const dir = mkdtempSync(join(tmpdir(), 'quire-wire-snapshot-'));
  const path = join(dir, 'copy.sqlite');
  writeFileSync(path, file);
  const db = new Database(path, { readonly: true });
  try {
    return queries.map((sql) => db.prepare(sql).all() as Row[]);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
