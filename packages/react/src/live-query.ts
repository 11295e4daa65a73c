import type { QuireClient, Reducers, Row, SqlParams } from '@quire/core';
import { LOADING, type QueryState } from './query-state.js';
import { reconcileRows } from './reconcile-rows.js';

/**
 * One live query as an external store for `useSyncExternalStore`. Its listeners
 * share a single client subscription, open while there is at least one. The
 * state survives a stop and restart (StrictMode remounts), and changes only
 * when the rows or the error do.
 */
export class LiveQuery<T extends Row> {
  private state: QueryState<T> = LOADING;
  // The client's rows that state.rows was made from (see reconcileRows).
  private input: readonly T[] | undefined;
  private readonly listeners = new Set<{ notify: () => void }>();
  private unsubscribe: (() => void) | undefined;
  // Identifies the current client subscription, so a late callback from a
  // stopped one cannot change the state.
  private generation = 0;

  constructor(
    private readonly client: QuireClient<Reducers>,
    readonly sql: string,
    readonly params: SqlParams | undefined,
    private readonly rowKey: string | undefined,
  ) {}

  readonly getSnapshot = (): QueryState<T> => this.state;

  readonly subscribe = (notify: () => void): (() => void) => {
    const listener = { notify };
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.stop();
    };
  };

  private start(): void {
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    try {
      const unsubscribe = this.client.subscribe<T>(
        this.sql,
        this.params,
        (rows) => current() && this.setRows(rows),
        (error) => current() && this.setError(error),
      );
      if (current()) this.unsubscribe = unsubscribe;
      else unsubscribe();
    } catch (error) {
      this.setError(error);
    }
  }

  private stop(): void {
    this.generation++;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    unsubscribe?.();
  }

  private setRows(next: readonly T[]): void {
    const rows = reconcileRows(this.state.rows, next, this.rowKey, this.input);
    this.input = next;
    if (this.state.status === 'ready' && rows === this.state.rows) return;
    this.update({ status: 'ready', rows, error: undefined });
  }

  private setError(error: unknown): void {
    // The engine reports a failing query again after every change; the same failure is not news.
    if (this.state.status === 'error' && sameError(this.state.error, error)) return;
    this.update({ status: 'error', rows: this.state.rows, error });
  }

  private update(state: QueryState<T>): void {
    this.state = Object.freeze(state);
    for (const listener of [...this.listeners]) listener.notify();
  }
}

function sameError(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!(a instanceof Error) || !(b instanceof Error)) return false;
  const code = (e: Error) => (e as { code?: unknown }).code;
  return a.constructor === b.constructor && a.message === b.message && code(a) === code(b);
}
