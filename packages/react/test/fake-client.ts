import type { ErrorListener, Json, MutateApi, Presence, PresencePeer, QueryListener, QuireClient, Reducers, Row, SqlParams, SyncStatus } from '@quire/core';

export interface FakeSubscription {
  sql: string;
  params: SqlParams | undefined;
  listener: QueryListener;
  onError: ErrorListener | undefined;
  active: boolean;
}

/**
 * A QuireClient whose query results and status the test sets by hand, for
 * what a real client cannot do on cue: notify identical rows, fail a query on
 * demand, count subscriptions.
 */
export class FakeClient<R extends Reducers = Reducers> implements QuireClient<R> {
  readonly clientId = 'fake-client';
  readonly docId = 'fake-doc';
  readonly mutate = {} as MutateApi<R>;
  readonly presence = new FakePresence();
  /** Every subscribe call, in order. */
  readonly subscriptions: FakeSubscription[] = [];
  unsubscribeCalls = 0;
  connectCalls = 0;
  disconnectCalls = 0;
  private current: SyncStatus = { connection: 'offline', pending: 0, lsn: 0, durableLsn: 0, lastError: undefined, offlineByChoice: false, appVersion: { client: 0, server: undefined } };
  private readonly statusListeners = new Set<(status: SyncStatus) => void>();

  get active(): FakeSubscription[] {
    return this.subscriptions.filter((s) => s.active);
  }

  subscribe<T extends Row = Row>(sql: string, params: SqlParams | undefined, listener: QueryListener<T>, onError?: ErrorListener): () => void {
    const sub: FakeSubscription = { sql, params, listener: listener as QueryListener, onError, active: true };
    this.subscriptions.push(sub);
    return () => {
      this.unsubscribeCalls++;
      sub.active = false;
    };
  }

  /** Delivers `rows` to every active subscription of `sql`. */
  emit(sql: string, rows: Row[]): void {
    for (const sub of this.active) if (sub.sql === sql) sub.listener(rows);
  }

  fail(sql: string, error: unknown): void {
    for (const sub of this.active) if (sub.sql === sql) sub.onError?.(error);
  }

  setStatus(patch: Partial<SyncStatus>): void {
    const next = { ...this.current, ...patch };
    const same = (Object.keys(next) as (keyof SyncStatus)[]).every((k) => next[k] === this.current[k]);
    if (same) return;
    this.current = next;
    for (const listener of [...this.statusListeners]) listener(next);
  }

  status(): SyncStatus {
    return this.current;
  }

  subscribeStatus(listener: (status: SyncStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => void this.statusListeners.delete(listener);
  }

  query(): Promise<never> {
    return Promise.reject(new Error('FakeClient.query is not implemented'));
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  synced(): Promise<void> {
    return Promise.resolve();
  }

  connect(): void {
    this.connectCalls++;
  }

  disconnect(): void {
    this.disconnectCalls++;
  }

  measureQuery(): Promise<never> {
    return Promise.reject(new Error('FakeClient.measureQuery is not implemented'));
  }

  hydrate(): Promise<void> {
    return Promise.resolve();
  }

  inspect(): Promise<never> {
    return Promise.reject(new Error('FakeClient.inspect is not implemented'));
  }

  inspection(): Promise<never> {
    return Promise.reject(new Error('FakeClient.inspection is not implemented'));
  }

  subscribeInspection(): () => void {
    return () => {};
  }

  async close(): Promise<void> {}
}

/** A Presence whose others the test sets by hand; `set` records what it was given. */
export class FakePresence implements Presence<Json> {
  readonly sets: (Json | null)[] = [];
  private current: Json | null = null;
  private peers: readonly PresencePeer<Json>[] = [];
  private readonly listeners = new Set<(others: readonly PresencePeer<Json>[]) => void>();

  set(state: Json | null): void {
    this.sets.push(state);
    this.current = state;
    this.notify();
  }

  mine(): Json | null {
    return this.current;
  }

  others(): readonly PresencePeer<Json>[] {
    return this.peers;
  }

  subscribe(listener: (others: readonly PresencePeer<Json>[]) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Replaces the others (a new array, as a real client's would be) and notifies. */
  setOthers(peers: readonly PresencePeer<Json>[]): void {
    this.peers = peers;
    this.notify();
  }

  /** Notifies without a change, as a client does when only its own state changed. */
  notify(): void {
    for (const listener of [...this.listeners]) listener(this.peers);
  }
}
