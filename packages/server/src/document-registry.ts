import { join } from 'node:path';
import { QuireError, type Reducers } from '@quire/core';
import { ID_RULE, isValidDocId } from '@quire/core/protocol';
import { ClientOwners } from './client-owners.js';
import type { CommitLog } from './log/commit-log.js';
import { FileCommitLog } from './log/file-commit-log.js';
import { Coordinator } from './coordinator/coordinator.js';
import type { VolumeOptions } from './coordinator/document-volume.js';

export interface RegistryOptions extends VolumeOptions {
  dataDir: string;
  reducers: Reducers;
  /** Close a document this long after its last client left. Default 30 s. */
  idleCloseMs?: number;
  maxBatch?: number;
  /** Where each document's commit log lives. Default: files next to the document. */
  commitLog?: (docId: string, dir: string) => CommitLog;
}

interface Entry {
  opening: Promise<Coordinator>;
  users: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Opened on the first claim; closed once the entry leaves `entries`. */
  owners?: ClientOwners;
}

/** Opens documents on first use and closes them when idle: one coordinator per document. */
export class DocumentRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Documents whose coordinator is still closing: a reopen waits for it. */
  private readonly closingDocs = new Map<string, Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RegistryOptions) {}

  /** The document's coordinator; pair every call with {@link release}. */
  async acquire(docId: string): Promise<Coordinator> {
    if (!isValidDocId(docId)) throw new QuireError('invalid_doc_id', `docId "${docId.slice(0, 200)}" is not valid — ${ID_RULE}`);
    if (this.closing) throw new QuireError('server_closed', 'the sync server is shutting down — reconnect later');
    let entry = this.entries.get(docId);
    if (!entry) {
      const dir = join(this.options.dataDir, docId);
      const log = this.options.commitLog?.(docId, dir) ?? new FileCommitLog(dir);
      const prior = this.closingDocs.get(docId) ?? Promise.resolve();
      entry = { opening: prior.then(() => Coordinator.open({ ...this.options, docId, dir, log })), users: 0, idleTimer: undefined };
      this.entries.set(docId, entry);
      entry.opening.catch(() => this.entries.delete(docId));
    }
    entry.users++;
    clearTimeout(entry.idleTimer);
    try {
      return await entry.opening;
    } catch (error) {
      entry.users--;
      throw error;
    }
  }

  /**
   * The user a client id of an acquired document belongs to: the first one
   * that claimed it (see {@link ClientOwners}), which may be `userId` itself.
   */
  claimClient(docId: string, clientId: string, userId: string): string {
    const entry = this.entries.get(docId);
    if (!entry) throw new QuireError('server_closed', `document "${docId}" is closing — reconnect`);
    entry.owners ??= ClientOwners.open(join(this.options.dataDir, docId));
    return entry.owners.claim(clientId, userId);
  }

  release(docId: string): void {
    const entry = this.entries.get(docId);
    if (!entry) return;
    entry.users--;
    if (entry.users > 0) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => void this.closeIfIdle(docId, entry), this.options.idleCloseMs ?? 30_000);
    entry.idleTimer.unref?.();
  }

  /** Runs `fn` with the document open, then releases it. */
  async with<T>(docId: string, fn: (coordinator: Coordinator) => Promise<T> | T): Promise<T> {
    const coordinator = await this.acquire(docId);
    try {
      return await fn(coordinator);
    } finally {
      this.release(docId);
    }
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      const all = [...this.entries.values()];
      this.entries.clear();
      // Out of `entries`, no session can claim a client id any more.
      for (const entry of all) {
        clearTimeout(entry.idleTimer);
        entry.owners?.close();
      }
      await Promise.all([
        ...all.map(async (e) => (await e.opening.catch(() => undefined))?.close()),
        ...this.closingDocs.values(),
      ]);
    })();
    return this.closing;
  }

  private async closeIfIdle(docId: string, entry: Entry): Promise<void> {
    if (this.entries.get(docId) !== entry || entry.users > 0) return;
    const coordinator = await entry.opening;
    if (entry.users > 0 || !coordinator.idle) return;
    this.entries.delete(docId);
    entry.owners?.close();
    const closing = coordinator.close().finally(() => this.closingDocs.delete(docId));
    this.closingDocs.set(docId, closing);
    await closing;
  }
}
