import { QuireError } from '../errors.js';
import type { BaseChange, ReplicaStore, StoredMutation, StoredReplica } from '../store/replica-store.js';

/**
 * The engine's side of its optional store. Writes never throw: the first
 * failure is kept as `store_failed` and the replica keeps syncing, because
 * losing the local copy beats never sending the change.
 */
export class EngineStore {
  private failure: QuireError | undefined;

  constructor(
    private store: ReplicaStore | undefined,
    private readonly changed: () => void,
  ) {}

  /** False without a store, or once it could not load. */
  get persistent(): boolean {
    return this.store !== undefined;
  }

  get error(): QuireError | undefined {
    return this.failure;
  }

  /** The stored replica, if any; unusable storage (private mode, quota, a broken database) is let go. */
  async load(clientId: string): Promise<StoredReplica | undefined> {
    if (!this.store) return undefined;
    try {
      const stored = await this.store.load();
      if (!stored) await this.store.init(clientId);
      return stored;
    } catch (error) {
      this.store = undefined;
      this.failed(error);
      return undefined;
    }
  }

  /** Resolves once the write is done, or failed (then the failure is recorded). */
  putPending(mutation: StoredMutation): Promise<void> {
    if (!this.store) return Promise.resolve();
    return this.store.putPending(mutation).catch((error) => this.record(error));
  }

  putBase(change: BaseChange): void {
    this.store?.putBase(change).catch((error) => this.failed(error));
  }

  settle(throughSeq: number): void {
    this.store?.settle(throughSeq).catch((error) => this.failed(error));
  }

  async close(): Promise<void> {
    await this.store?.close();
  }

  private failed(error: unknown): void {
    this.record(error);
    this.changed();
  }

  private record(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.failure = new QuireError('store_failed', `could not save the local replica (${reason}) — changes still sync, but may not survive a restart; check the browser's storage quota`);
  }
}
