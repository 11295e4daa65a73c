import type { QuireClient, Reducers, Row, SqlParams } from '@quire/core';
import { LiveQuery } from './live-query.js';
import { paramsKey } from './params-key.js';

/** How long a settled entry stays cached after its last render while no component is subscribed. */
export const SUSPENSE_RETAIN_MS = 10_000;

/** A cached live query plus the promise that a suspending render waits on. */
export interface SuspenseEntry<T extends Row> {
  readonly query: LiveQuery<T>;
  /** Resolves once the query has its first result or error; the same object for every render. */
  readonly settled: Promise<void>;
  /** Subscribe as a mounted component (what `useSyncExternalStore` calls). */
  readonly subscribe: (notify: () => void) => () => void;
}

interface Slot {
  entry: SuspenseEntry<Row>;
  users: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  release: (() => void) | undefined;
}

/**
 * The suspense cache of one client. A render that suspends has not mounted
 * and may never mount, so the cache itself holds each query's subscription:
 * from the first read until the entry has settled, has no mounted component,
 * and has not been read for `retainMs`. Then the subscription is closed and the
 * entry dropped. Errors stay cached for the same time, so a render that throws
 * one does not start the query again in a loop.
 */
export class SuspenseCache {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly client: QuireClient<Reducers>,
    private readonly retainMs = SUSPENSE_RETAIN_MS,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  read<T extends Row>(sql: string, params: SqlParams | undefined, rowKey: string | undefined): SuspenseEntry<T> {
    const key = `${sql}\u0000${paramsKey(params)}\u0000${rowKey ?? ''}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = this.open(key, new LiveQuery<Row>(this.client, sql, params, rowKey));
      this.slots.set(key, slot);
    }
    this.scheduleRelease(key, slot);
    return slot.entry as unknown as SuspenseEntry<T>;
  }

  private open(key: string, query: LiveQuery<Row>): Slot {
    let resolve!: () => void;
    const settled = new Promise<void>((r) => (resolve = r));
    const slot: Slot = {
      entry: {
        query,
        settled,
        subscribe: (notify) => {
          slot.users++;
          clearTimeout(slot.timer);
          const unsubscribe = query.subscribe(notify);
          let done = false;
          return () => {
            if (done) return;
            done = true;
            unsubscribe();
            slot.users--;
            this.scheduleRelease(key, slot);
          };
        },
      },
      users: 0,
      timer: undefined,
      release: undefined,
    };
    let isSettled = false;
    const onChange = () => {
      if (isSettled || query.getSnapshot().status === 'loading') return;
      isSettled = true;
      resolve();
      this.scheduleRelease(key, slot);
    };
    slot.release = query.subscribe(onChange);
    return slot;
  }

  private scheduleRelease(key: string, slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    // A loading entry is kept: a suspended render is waiting for it to settle.
    if (slot.users > 0 || !slot.release || slot.entry.query.getSnapshot().status === 'loading') return;
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (slot.users > 0) return;
      slot.release?.();
      slot.release = undefined;
      if (this.slots.get(key) === slot) this.slots.delete(key);
    }, this.retainMs);
  }
}

const caches = new WeakMap<QuireClient<Reducers>, SuspenseCache>();

/** The suspense cache of `client`, created on first use. */
export function suspenseCacheOf(client: QuireClient<Reducers>): SuspenseCache {
  let cache = caches.get(client);
  if (!cache) caches.set(client, (cache = new SuspenseCache(client)));
  return cache;
}
