import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLIENTS_TABLE } from '@quire/core/internal';
import { DocumentLock } from '../coordinator/document-lock.js';
import { schemaVersionOf } from '../coordinator/run-migrations.js';
import { restoreVolume, volumeState } from '../coordinator/volume-restore.js';
import type { CommitLog, CommitLogSummary } from '../log/commit-log.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import { ObjectKeys } from '../log/s3/object-keys.js';
import { S3CommitLog } from '../log/s3/s3-commit-log.js';
import type { S3LogOptions } from '../log/s3/s3-log-options.js';
import { S3Store } from '../log/s3/s3-store.js';
import { bucketDocuments } from './bucket-documents.js';
import { documentFolders } from './document-folders.js';

/** What `quire inspect` reports about one document. */
export interface DocumentReport {
  docId: string;
  /** A server holds the document's lock now: the figures are as of this moment. Always false in a bucket, which says nothing of who reads it. */
  live: boolean;
  lsn: number;
  /** Every commit in a log is durable once written; the same as `lsn` read from the log. */
  durableLsn: number;
  pageCount: number;
  sizeBytes: number;
  /** The log's size: segments and checkpoints on disk, or its objects in the bucket. */
  logBytes: number;
  firstLsn: number;
  checkpoints: number[];
  /** Migrations the document ran (see docs/MIGRATIONS.md), as its database file has it. */
  schemaVersion: number;
  /** The first 20 (by client id) of the clients the document has settled mutations of, and `clientCount` for all. */
  clients: Array<{ clientId: string; lastSeq: number }>;
  clientCount: number;
  rejections: Array<{ clientId: string; seq: number; code: string }>;
}

const MAX_LISTED = 20;

/** Reads a document's log (read-only, so safe next to a live server) and its clients. */
export async function inspectDocument(docId: string, dir: string): Promise<DocumentReport> {
  const live = DocumentLock.isHeld(dir);
  const log = new FileCommitLog(dir, { readOnly: true });
  try {
    const summary = await log.open();
    const stored = await log.storedBytes();
    const lsn = summary.last?.lsn ?? summary.checkpoint?.lsn ?? 0;
    const pageCount = summary.last?.pageCount ?? summary.checkpoint?.pageCount ?? 0;
    const checkpointsDir = join(dir, 'checkpoints');
    const checkpoints = existsSync(checkpointsDir) ? readdirSync(checkpointsDir).filter((n) => n.endsWith('.qcp')).map((n) => Number(n.slice(0, -4))) : [];
    const rejections = [...(summary.checkpoint?.rejections ?? []), ...summary.rejections].filter((r) => r.seq > 0).slice(-MAX_LISTED);
    // A database file that is missing or behind its log (a restored backup, a crash) says nothing true of clients: read the one the server will rebuild at open.
    const database = !live && volumeState(dir, summary) === 'rebuild' ? await readRebuilt(log, summary) : readDatabase(dir);
    return { docId, live, lsn, durableLsn: lsn, pageCount, sizeBytes: pageCount * 4096, logBytes: stored.commits + stored.checkpoints, firstLsn: summary.firstLsn, checkpoints, ...database, rejections: rejections.map(({ clientId, seq, code }) => ({ clientId, seq, code })) };
  } finally {
    await log.close();
  }
}

/** The database rebuilt from the log's newest checkpoint and the commits after it, in a temporary folder, as a server opening the document would. */
async function readRebuilt(log: CommitLog, summary: CommitLogSummary): Promise<ReturnType<typeof readDatabase>> {
  const dir = mkdtempSync(join(tmpdir(), 'quire-inspect-'));
  try {
    if (summary.checkpoint || summary.last) await restoreVolume(dir, log, summary);
    return readDatabase(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readDatabase(dir: string): Pick<DocumentReport, 'clients' | 'clientCount' | 'schemaVersion'> {
  const path = join(dir, 'document.sqlite');
  if (!existsSync(path) || statSync(path).size === 0) return { clients: [], clientCount: 0, schemaVersion: 0 };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const clients = db.prepare(`SELECT client_id AS clientId, last_seq AS lastSeq FROM ${CLIENTS_TABLE} ORDER BY client_id LIMIT ${MAX_LISTED}`).all() as Array<{ clientId: string; lastSeq: number }>;
    const clientCount = db.prepare(`SELECT count(*) FROM ${CLIENTS_TABLE}`).pluck().get() as number;
    return { clients, clientCount, schemaVersion: schemaVersionOf(db) };
  } finally {
    db.close();
  }
}

/**
 * Reads a document from a bucket: its log (LIST and GET only), and its
 * database rebuilt in a temporary folder from the newest checkpoint and the
 * commits after it, as a node that opens it would.
 */
export async function inspectBucketDocument(store: S3Store, docId: string): Promise<DocumentReport> {
  const log = new S3CommitLog(store, docId);
  const keys = new ObjectKeys(store.prefix, docId);
  try {
    const summary = await log.open();
    let logBytes = 0;
    const checkpoints: number[] = [];
    for await (const { key, size } of store.listSized(keys.checkpoints)) (checkpoints.unshift(keys.checkpointLsn(key)), (logBytes += size));
    for await (const { size } of store.listSized(keys.commits)) logBytes += size;
    const lsn = summary.last?.lsn ?? summary.checkpoint?.lsn ?? 0;
    const pageCount = summary.last?.pageCount ?? summary.checkpoint?.pageCount ?? 0;
    const database = await readRebuilt(log, summary);
    const rejections = [...(summary.checkpoint?.rejections ?? []), ...summary.rejections].filter((r) => r.seq > 0).slice(-MAX_LISTED);
    return { docId, live: false, lsn, durableLsn: lsn, pageCount, sizeBytes: pageCount * 4096, logBytes, firstLsn: summary.firstLsn, checkpoints, ...database, rejections: rejections.map(({ clientId, seq, code }) => ({ clientId, seq, code })) };
  } finally {
    await log.close();
  }
}

/** How `quire inspect` prints: blocks for people, or (`--json`) one JSON document `{ "documents": [DocumentReport…] }` for tools. */
export interface InspectOutput {
  write: (line: string) => void;
  json?: boolean;
}

/** `quire inspect <dataDir> [docId]`: one block per document. */
export async function inspect(dataDir: string, docId: string | undefined, output: InspectOutput): Promise<number> {
  const reports: DocumentReport[] = [];
  for (const folder of documentFolders(dataDir, docId, 'inspect')) reports.push(await inspectDocument(folder.docId, folder.dir));
  print(reports, output);
  return 0;
}

function print(reports: DocumentReport[], { write, json }: InspectOutput): void {
  if (json) return write(JSON.stringify({ documents: reports }, null, 2));
  for (const r of reports) report(r, r.live ? '  (open in a running server: figures as of now)' : '', write);
}

/** `quire inspect --s3-bucket <name> [docId]`: the same blocks, read from the bucket. */
export async function inspectBucket(s3: S3LogOptions, docId: string | undefined, output: InspectOutput): Promise<number> {
  const store = new S3Store(s3);
  try {
    const where = `s3://${store.bucket}/${store.prefix}${s3.endpoint ? ` at ${s3.endpoint}` : ''}`;
    const reports: DocumentReport[] = [];
    for (const id of await bucketDocuments(store, docId, where)) reports.push(await inspectBucketDocument(store, id));
    print(reports, output);
    return 0;
  } finally {
    store.close();
  }
}

function report(r: DocumentReport, note: string, write: (line: string) => void): void {
  write(`${r.docId}${note}`);
  write(`  lsn ${r.lsn}   durable lsn ${r.durableLsn}   first lsn in log ${r.firstLsn}`);
  write(`  pages ${r.pageCount}   size ${bytes(r.sizeBytes)}   log ${bytes(r.logBytes)}   schema version ${r.schemaVersion}`);
  write(`  checkpoints ${r.checkpoints.length === 0 ? 'none' : r.checkpoints.map((l) => `@${l}`).join(' ')}`);
  const clients = r.clients.map((c) => `${c.clientId}:${c.lastSeq}`).join(' ');
  write(`  clients (last seq) ${clients || 'none'}${r.clientCount > r.clients.length ? ` … (${r.clientCount} in all)` : ''}`);
  write(`  recent rejections ${r.rejections.map((x) => `${x.clientId}:${x.seq} ${x.code}`).join(', ') || 'none'}`);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
