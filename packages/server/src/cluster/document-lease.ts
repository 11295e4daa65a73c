import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { QuireError } from '@quire/core';
import type { VersionedObjects } from './versioned-objects.js';

/** A server node, as other nodes reach it. */
export interface LeaseHolder {
  nodeId: string;
  /** Where other nodes forward this document's clients. */
  address: string;
}

export type LeaseState =
  | { kind: 'held'; epoch: number }
  | {
      kind: 'elsewhere';
      holder: LeaseHolder;
      epoch: number;
      /** How long, by this node's clock, until it may take the lease over if the holder stops renewing. */
      expiresInMs: number;
    };

export interface DocumentLeaseOptions {
  objects: VersionedObjects;
  /** The lease object's key, one per document. */
  key: string;
  self: LeaseHolder;
  /** How long a lease lasts without renewal. Default 10 s. */
  ttlMs?: number;
  /** A monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

// The holder stops trusting its lease this fraction of the TTL before others may take it.
const HOLDER_MARGIN = 0.2;
const FORMAT = 'quire-lease-1';

interface LeaseBody extends LeaseHolder {
  format: typeof FORMAT;
  epoch: number;
  ttlMs: number;
  released: boolean;
  // Makes every write distinct, so a store that re-reads after an unclear answer can tell ours.
  nonce: string;
}

/**
 * Which node coordinates one document, as an object in the bucket that is
 * only ever written conditionally. It keeps nodes from duelling; it is not
 * what keeps data safe (the log's `If-None-Match` writes are).
 *
 * No wall clocks are compared between nodes: a node takes a lease over only
 * after it has seen the same version of it, unchanged, for a whole TTL by its
 * own monotonic clock, and the holder stops trusting its lease a margin
 * before that, counted from before its last successful write. A clock that
 * jumps on one machine therefore cannot hand the document to two nodes.
 */
export class DocumentLease {
  private readonly ttlMs: number;
  private readonly now: () => number;
  // Our last successful write: its version, and when the write began.
  private mine: { version: string; epoch: number; writtenAt: number } | undefined;
  // Another node's lease as this node first saw it, to time its expiry.
  private observed: { version: string; since: number } | undefined;

  constructor(private readonly options: DocumentLeaseOptions) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether this node may act as the document's coordinator right now. */
  get held(): boolean {
    return this.mine !== undefined && this.now() - this.mine.writtenAt < this.ttlMs * (1 - HOLDER_MARGIN);
  }

  /**
   * Takes the lease when it is free, released, ours, or expired; otherwise
   * says who holds it. Throws a `QuireError` when the object is not a lease.
   */
  async acquire(): Promise<LeaseState> {
    const { objects, key } = this.options;
    // Two rounds: a write lost to a racing node is answered by re-reading who won.
    for (let round = 0; round < 2; round++) {
      const start = this.now();
      const current = await objects.get(key);
      if (!current) {
        if (await this.write(start, 1, undefined)) return { kind: 'held', epoch: 1 };
        continue;
      }
      const lease = this.parse(current.data);
      const seenAt = this.now();
      if (this.observed?.version !== current.version) this.observed = { version: current.version, since: seenAt };
      // A node id names one live process: a lease under our id that this
      // object did not write is from our own previous run, which is gone.
      const ours = lease.nodeId === this.options.self.nodeId;
      const expired = seenAt - this.observed.since >= lease.ttlMs;
      if (ours || lease.released || expired) {
        // Our own lease keeps its epoch; taking one over starts a new one.
        const epoch = ours && this.mine?.version === current.version ? lease.epoch : lease.epoch + 1;
        if (await this.write(start, epoch, current.version)) return { kind: 'held', epoch };
        continue;
      }
      this.mine = undefined;
      return {
        kind: 'elsewhere',
        holder: { nodeId: lease.nodeId, address: lease.address },
        epoch: lease.epoch,
        expiresInMs: lease.ttlMs - (seenAt - this.observed.since),
      };
    }
    return this.peek();
  }

  /** Extends the lease this node holds. False: another node has it now; stop coordinating. */
  async renew(): Promise<boolean> {
    if (!this.mine) return false;
    const ok = await this.write(this.now(), this.mine.epoch, this.mine.version);
    if (!ok) this.mine = undefined;
    return ok;
  }

  /** Hands the lease back (a clean shutdown), so another node need not wait out the TTL. */
  async release(): Promise<void> {
    const mine = this.mine;
    if (!mine) return;
    this.mine = undefined;
    await this.options.objects.putIfVersion(this.options.key, this.encode(mine.epoch, true), mine.version);
  }

  // Who holds the lease after two lost writes in a row.
  private async peek(): Promise<LeaseState> {
    const current = await this.options.objects.get(this.options.key);
    if (!current) throw new QuireError('lease_corrupt', `the lease ${this.options.key} vanished while nodes raced for it — check that nothing else deletes objects under this prefix`);
    const lease = this.parse(current.data);
    this.observed = { version: current.version, since: this.now() };
    return { kind: 'elsewhere', holder: { nodeId: lease.nodeId, address: lease.address }, epoch: lease.epoch, expiresInMs: lease.ttlMs };
  }

  private async write(start: number, epoch: number, version: string | undefined): Promise<boolean> {
    const { objects, key } = this.options;
    const data = this.encode(epoch, false);
    const written = version === undefined ? await objects.putIfAbsent(key, data) : await objects.putIfVersion(key, data, version);
    if (written === undefined) {
      this.mine = undefined;
      return false;
    }
    this.mine = { version: written, epoch, writtenAt: start };
    this.observed = undefined;
    return true;
  }

  private encode(epoch: number, released: boolean): Uint8Array {
    const { nodeId, address } = this.options.self;
    const body: LeaseBody = { format: FORMAT, nodeId, address, epoch, ttlMs: this.ttlMs, released, nonce: randomUUID() };
    return new TextEncoder().encode(JSON.stringify(body));
  }

  private parse(data: Uint8Array): LeaseBody {
    let body: Partial<LeaseBody> | undefined;
    try {
      body = JSON.parse(new TextDecoder().decode(data)) as Partial<LeaseBody>;
    } catch {
      body = undefined;
    }
    const valid =
      body?.format === FORMAT &&
      typeof body.nodeId === 'string' &&
      typeof body.address === 'string' &&
      Number.isSafeInteger(body.epoch) &&
      typeof body.ttlMs === 'number' &&
      body.ttlMs > 0 &&
      typeof body.released === 'boolean';
    if (!valid) {
      throw new QuireError('lease_corrupt', `the object at ${this.options.key} is not a Quire lease — another program writes under this prefix; give Quire a prefix of its own`);
    }
    return body as LeaseBody;
  }
}
