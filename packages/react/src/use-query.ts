import { useMemo, useSyncExternalStore } from 'react';
import type { Row, SqlParams } from '@quire/core';
import { LiveQuery } from './live-query.js';
import { LOADING, type LiveQueryOptions, type QueryState } from './query-state.js';
import { useQuireClient } from './quire-provider.js';
import { useStableParams } from './use-stable-params.js';

/** Options of {@link useQuery}. */
export interface QueryOptions<T = Row> extends LiveQueryOptions<T> {
  /**
   * `false` makes no subscription and leaves the state at `loading` with no
   * rows, like a disabled query in React Query. Turning it off drops the rows.
   * Default: true.
   */
  enabled?: boolean;
}

/**
 * Live rows of a query on the local replica. The component re-renders only
 * when the result changes; unchanged rows keep their identity.
 *
 * @example
 * const todos = useQuery<Todo>('SELECT * FROM todos WHERE list = ? ORDER BY created', [listId], { rowKey: 'id' });
 * if (todos.status === 'loading') return <Spinner />;
 * if (todos.status === 'error') return <p>{String(todos.error)}</p>;
 * return todos.rows.map((todo) => <TodoItem key={todo.id} todo={todo} />);
 */
export function useQuery<T extends Row = Row>(sql: string, params?: SqlParams, options: QueryOptions<T> = {}): QueryState<T> {
  const client = useQuireClient();
  const stableParams = useStableParams(params);
  const { enabled = true, rowKey } = options;
  const query = useMemo(
    () => (enabled ? new LiveQuery<T>(client, sql, stableParams, rowKey) : undefined),
    [client, sql, stableParams, enabled, rowKey],
  );
  return useSyncExternalStore<QueryState<T>>(query?.subscribe ?? subscribeNothing, query?.getSnapshot ?? getLoading, getLoading);
}

const subscribeNothing = () => () => {};
const getLoading = () => LOADING;
