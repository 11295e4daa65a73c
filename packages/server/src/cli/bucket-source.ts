import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reducers } from '@quire/core';
import { pino } from 'pino';
import { DocumentPlacement } from '../cluster/document-placement.js';
import { S3Objects } from '../cluster/s3-objects.js';
import { Coordinator } from '../coordinator/coordinator.js';
import type { Logger } from '../logger.js';
import { S3CommitLog } from '../log/s3/s3-commit-log.js';
import type { S3LogOptions } from '../log/s3/s3-log-options.js';
import { S3Store } from '../log/s3/s3-store.js';
import { bucketDocuments } from './bucket-documents.js';
import type { DocumentSource, OpenedDocument } from './document-source.js';

export interface BucketSourceOptions {
  s3: S3LogOptions;
  /** Only this document. */
  docId?: string | undefined;
  /** Where to keep the documents' databases (a cache of the log). Default: a temporary directory, removed at the end. */
  cacheDir?: string | undefined;
}

/**
 * The documents of a bucket with the S3 log. Before opening one it takes the
 * document's lease, as a cluster node does, and hands it back after: a
 * document a live node coordinates is held, never opened here. Without
 * cluster nodes nobody else looks at leases, and the log's conditional
 * writes are the guard: a server that writes the document meanwhile wins,
 * and the migration fails with `log_fenced`.
 */
export class BucketSource implements DocumentSource {
  readonly where: string;
  private readonly store: S3Store;
  private readonly placement: DocumentPlacement;
  private readonly cacheDir: string;

  constructor(private readonly options: BucketSourceOptions) {
    this.store = new S3Store(options.s3);
    this.where = `s3://${this.store.bucket}/${this.store.prefix}${options.s3.endpoint ? ` at ${options.s3.endpoint}` : ''}`;
    this.placement = new DocumentPlacement({
      objects: new S3Objects(this.store),
      prefix: this.store.prefix,
      // One id per host: a run killed in the middle leaves a lease that the next run on this host takes back at once.
      // The address is a valid URL that refuses connections: nodes that try to relay a client here fail fast, and it retries.
      self: { nodeId: `quire-migrate@${hostname()}`, address: 'ws://127.0.0.1:9/quire-migrate' },
      logger: pino({ enabled: false }),
      // A lease lost while migrating (a step that blocked longer than the TTL): the log's fencing still lets only one writer commit.
      onLost: () => {},
    });
    this.cacheDir = options.cacheDir ?? mkdtempSync(join(tmpdir(), 'quire-migrate-'));
  }

  list(): Promise<string[]> {
    return bucketDocuments(this.store, this.options.docId, this.where);
  }

  async open(docId: string, reducers: Reducers, logger: Logger): Promise<OpenedDocument> {
    const where = await this.placement.locate(docId);
    if (where.kind === 'elsewhere') {
      return { kind: 'held', reason: `its lease is held by server node "${where.nodeId}" (${where.address}), which coordinates it`, recheckInMs: where.expiresInMs };
    }
    try {
      const log = new S3CommitLog(this.store, docId, this.options.s3);
      const coordinator = await Coordinator.open({ docId, dir: join(this.cacheDir, docId), reducers, log, logger });
      const close = async () => {
        try {
          await coordinator.close();
        } finally {
          await this.placement.release(docId);
        }
      };
      return { kind: 'open', coordinator, close };
    } catch (error) {
      await this.placement.release(docId);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.placement.close();
    this.store.close();
    if (!this.options.cacheDir) rmSync(this.cacheDir, { recursive: true, force: true });
  }
}
