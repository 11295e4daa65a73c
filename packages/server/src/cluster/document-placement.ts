import { performance } from 'node:perf_hooks';
import { QuireError } from '@quire/core';
import { ObjectKeys } from '../log/s3/object-keys.js';
import type { Logger } from '../logger.js';
import { DocumentLease, type LeaseHolder } from './document-lease.js';
import type { VersionedObjects } from './versioned-objects.js';

export interface PlacementOptions {
  objects: VersionedObjects;
  /** Key prefix of this deployment in the bucket (the S3 log's prefix). */
  prefix: string;
  self: LeaseHolder;
  /** How long a lease lasts unrenewed; another node takes a document over after this. Default 10 s. */
  leaseTtlMs?: number;
  logger: Logger;
  /** Called when this node lost a document it coordinated: it must stop coordinating it at once. */
  onLost: (docId: string) => void;
  /** A monotonic clock in ms (tests). */
  now?: () => number;
}

/** Where one document's clients are served. */
export type Placement =
  | { kind: 'here' }
  | {
      kind: 'elsewhere';
      address: string;
      nodeId: string;
      /** How long, by this node's clock, until it may take the document over if that node stops renewing. */
      expiresInMs: number;
    };

interface Held {
  lease: DocumentLease;
  timer: ReturnType<typeof setInterval> | undefined;
  // Serializes lease calls for this document.
  queue: Promise<unknown>;
  // When a client last asked for it (documents held elsewhere are forgotten after a while).
  usedAt: number;
}

// A document held elsewhere is forgotten after this many TTLs without a client asking for it.
const FORGET_AFTER_TTLS = 10;

/**
 * Decides which node coordinates each document, through one lease per
 * document in the bucket (see {@link DocumentLease}). This node takes a
 * document when it is free or its holder stopped renewing, keeps renewing it
 * while it is open here, and hands it back when it closes. Clients that
 * reach another node are relayed to the holder.
 */
export class DocumentPlacement {
  private readonly docs = new Map<string, Held>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private closed = false;
  private prunedAt = 0;

  constructor(private readonly options: PlacementOptions) {
    this.ttlMs = options.leaseTtlMs ?? 10_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Where `docId` is coordinated: here (this node now holds its lease) or on another node. */
  locate(docId: string): Promise<Placement> {
    this.prune();
    return this.serial(docId, async (held) => {
      held.usedAt = this.now();
      if (held.lease.held) return { kind: 'here' };
      const state = await held.lease.acquire();
      if (state.kind === 'held') {
        this.keepRenewing(docId, held);
        this.options.logger.info({ docId, epoch: state.epoch }, 'this node now coordinates the document');
        return { kind: 'here' };
      }
      return { kind: 'elsewhere', address: state.holder.address, nodeId: state.holder.nodeId, expiresInMs: state.expiresInMs };
    });
  }

  /** Throws unless this node holds the document's lease: checked before a coordinator opens. */
  assertHeld(docId: string): void {
    if (this.docs.get(docId)?.lease.held) return;
    throw new QuireError('document_moved', `document "${docId}" is coordinated by another server node now — reconnect; the client is sent there`);
  }

  /** The document closed here: hand its lease back so another node need not wait out the TTL. */
  release(docId: string): Promise<void> {
    return this.serial(docId, async (held) => {
      this.stopRenewing(held);
      this.docs.delete(docId);
      await held.lease.release().catch((error: unknown) => this.options.logger.warn({ docId, err: error }, 'could not hand the document lease back; another node takes it over when it expires'));
    });
  }

  /** Releases every lease (a clean shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.docs.keys()].map((docId) => this.release(docId)));
  }

  private keepRenewing(docId: string, held: Held): void {
    if (held.timer) return;
    held.timer = setInterval(() => {
      void this.serial(docId, async () => {
        const renewed = await held.lease.renew().catch((error: unknown) => {
          this.options.logger.warn({ docId, err: error }, 'renewing the document lease failed; retrying');
          return undefined;
        });
        // A failed renewal is retried until the lease runs out on this node's clock.
        if (renewed === false || (renewed === undefined && !held.lease.held)) {
          this.stopRenewing(held);
          this.docs.delete(docId);
          this.options.logger.warn({ docId }, 'this node lost the document lease: it stops coordinating the document');
          this.options.onLost(docId);
        }
      });
    }, Math.max(50, Math.floor(this.ttlMs / 4)));
    held.timer.unref?.();
  }

  // Leases seen elsewhere are kept to time their expiry; unused ones go.
  private prune(): void {
    const now = this.now();
    if (now - this.prunedAt < this.ttlMs) return;
    this.prunedAt = now;
    for (const [docId, held] of this.docs) {
      if (!held.timer && now - held.usedAt > FORGET_AFTER_TTLS * this.ttlMs) this.docs.delete(docId);
    }
  }

  private stopRenewing(held: Held): void {
    clearInterval(held.timer);
    held.timer = undefined;
  }

  private serial<T>(docId: string, fn: (held: Held) => Promise<T>): Promise<T> {
    if (this.closed && !this.docs.has(docId)) return Promise.reject(new QuireError('server_closed', 'the sync server is shutting down — reconnect later'));
    let held = this.docs.get(docId);
    if (!held) {
      const { objects, prefix, self } = this.options;
      const key = new ObjectKeys(prefix, docId).lease;
      held = { lease: new DocumentLease({ objects, key, self, ttlMs: this.ttlMs, now: this.now }), timer: undefined, queue: Promise.resolve(), usedAt: this.now() };
      this.docs.set(docId, held);
    }
    const entry = held;
    const result = entry.queue.then(() => fn(entry));
    entry.queue = result.catch(() => {});
    return result;
  }
}
