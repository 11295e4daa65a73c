import { use, useSyncExternalStore } from 'react';
import type { Row, SqlParams } from '@quire/core';
import type { LiveQueryOptions } from './query-state.js';
import { useQuireClient } from './quire-provider.js';
import { suspenseCacheOf } from './suspense-cache.js';
import { useStableParams } from './use-stable-params.js';

/**
 * What {@link useSuspenseQuery} returns: always rows. `error` is set when the
 * query failed after it had a result; a failure before that is thrown.
 */
export type SuspenseQueryState<T> =
  | { readonly status: 'ready'; readonly rows: readonly T[]; readonly error: undefined }
  | { readonly status: 'error'; readonly rows: readonly T[]; readonly error: unknown };

/**
 * {@link useQuery} for `<Suspense>`: suspends until the first result, and
 * throws to the nearest error boundary when the query fails before it has
 * one. Afterwards it is live like `useQuery`.
 *
 * @example
 * function Todos() {
 *   const { rows } = useSuspenseQuery<Todo>('SELECT * FROM todos ORDER BY created');
 *   return rows.map((todo) => <TodoItem key={todo.id} todo={todo} />);
 * }
 * // <Suspense fallback={<Spinner />}><Todos /></Suspense>
 */
export function useSuspenseQuery<T extends Row = Row>(sql: string, params?: SqlParams, options: LiveQueryOptions<T> = {}): SuspenseQueryState<T> {
  const client = useQuireClient();
  const stableParams = useStableParams(params);
  const entry = suspenseCacheOf(client).read<T>(sql, stableParams, options.rowKey);
  // `use` does not take a hook slot, so it may be conditional; it returns only once settled.
  if (entry.query.getSnapshot().status === 'loading') use(entry.settled);
  const state = useSyncExternalStore(entry.subscribe, entry.query.getSnapshot, entry.query.getSnapshot);
  // Settled: either rows, or an error without rows, which goes to the error boundary.
  if (state.rows === undefined) throw state.error;
  return state as SuspenseQueryState<T>;
}
