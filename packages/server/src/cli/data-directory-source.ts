import { join } from 'node:path';
import type { QuireError, Reducers } from '@quire/core';
import { Coordinator } from '../coordinator/coordinator.js';
import { FileCommitLog } from '../log/file-commit-log.js';
import type { Logger } from '../logger.js';
import { documentFolders } from './document-folders.js';
import type { DocumentSource, OpenedDocument } from './document-source.js';

/**
 * The documents of a data directory with file logs. A document a running
 * server has open is held through its `server.lock` (`document_locked`).
 */
export class DataDirectorySource implements DocumentSource {
  constructor(
    readonly where: string,
    private readonly docId: string | undefined,
  ) {}

  async list(): Promise<string[]> {
    return documentFolders(this.where, this.docId, 'migrate').map((folder) => folder.docId);
  }

  async open(docId: string, reducers: Reducers, logger: Logger): Promise<OpenedDocument> {
    const dir = join(this.where, docId);
    try {
      const coordinator = await Coordinator.open({ docId, dir, reducers, log: new FileCommitLog(dir), logger });
      return { kind: 'open', coordinator, close: () => coordinator.close() };
    } catch (error) {
      if ((error as QuireError).code === 'document_locked') return { kind: 'held', reason: (error as Error).message };
      throw error;
    }
  }

  async close(): Promise<void> {}
}
