import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLIENTS_TABLE } from '@quire/core/internal';
import { DocumentLock } from '../coordinator/document-lock.js';
import { schemaVersionOf } from '../coordinator/run-migrations.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import { documentFolders } from './document-folders.js';

/** What `quire inspect` reports about one document. */
export interface DocumentReport {
  docId: string;
  /** A server holds the document's lock now: the figures are as of this moment. */
  live: boolean;
  lsn: number;
  /** Every commit in a file log is durable once written; the same as `lsn` read from disk. */
  durableLsn: number;
  pageCount: number;
  sizeBytes: number;
  logBytes: number;
  firstLsn: number;
  checkpoints: number[];
  /** Migrations the document ran (see docs/MIGRATIONS.md), as its database file has it. */
  schemaVersion: number;
  clients: Array<{ clientId: string; lastSeq: number }>;
  rejections: Array<{ clientId: string; seq: number; code: string }>;
}

const MAX_LISTED = 20;

/** Reads a document's log (read-only, so safe next to a live server) and its clients. */
export async function inspectDocument(docId: string, dir: string): Promise<DocumentReport> {
  const live = DocumentLock.isHeld(dir);
  const log = new FileCommitLog(dir, { readOnly: true });
  try {
    const summary = await log.open();
    const disk = await log.diskBytes();
    const lsn = summary.last?.lsn ?? summary.checkpoint?.lsn ?? 0;
    const pageCount = summary.last?.pageCount ?? summary.checkpoint?.pageCount ?? 0;
    const checkpointsDir = join(dir, 'checkpoints');
    const checkpoints = existsSync(checkpointsDir) ? readdirSync(checkpointsDir).filter((n) => n.endsWith('.qcp')).map((n) => Number(n.slice(0, -4))) : [];
    const rejections = [...(summary.checkpoint?.rejections ?? []), ...summary.rejections].filter((r) => r.seq > 0).slice(-MAX_LISTED);
    return { docId, live, lsn, durableLsn: lsn, pageCount, sizeBytes: pageCount * 4096, logBytes: disk.segments + disk.checkpoints, firstLsn: summary.firstLsn, checkpoints, ...readDatabase(dir), rejections: rejections.map(({ clientId, seq, code }) => ({ clientId, seq, code })) };
  } finally {
    await log.close();
  }
}

function readDatabase(dir: string): Pick<DocumentReport, 'clients' | 'schemaVersion'> {
  const path = join(dir, 'document.sqlite');
  if (!existsSync(path) || statSync(path).size === 0) return { clients: [], schemaVersion: 0 };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const clients = db.prepare(`SELECT client_id AS clientId, last_seq AS lastSeq FROM ${CLIENTS_TABLE} ORDER BY client_id LIMIT ${MAX_LISTED + 1}`).all() as Array<{ clientId: string; lastSeq: number }>;
    return { clients, schemaVersion: schemaVersionOf(db) };
  } finally {
    db.close();
  }
}

/** `quire inspect <dataDir> [docId]`: one block per document. */
export async function inspect(dataDir: string, docId: string | undefined, write: (line: string) => void): Promise<number> {
  for (const folder of documentFolders(dataDir, docId)) {
    const r = await inspectDocument(folder.docId, folder.dir);
    write(`${r.docId}${r.live ? '  (open in a running server: figures as of now)' : ''}`);
    write(`  lsn ${r.lsn}   durable lsn ${r.durableLsn}   first lsn in log ${r.firstLsn}`);
    write(`  pages ${r.pageCount}   size ${bytes(r.sizeBytes)}   log ${bytes(r.logBytes)}   schema version ${r.schemaVersion}`);
    write(`  checkpoints ${r.checkpoints.length === 0 ? 'none' : r.checkpoints.map((l) => `@${l}`).join(' ')}`);
    const clients = r.clients.slice(0, MAX_LISTED).map((c) => `${c.clientId}:${c.lastSeq}`).join(' ');
    write(`  clients (last seq) ${clients || 'none'}${r.clients.length > MAX_LISTED ? ' …' : ''}`);
    write(`  recent rejections ${r.rejections.map((x) => `${x.clientId}:${x.seq} ${x.code}`).join(', ') || 'none'}`);
  }
  return 0;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
