import { useCallback, useMemo, useRef, useSyncExternalStore } from 'react';
import type { Row, SqlParams } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

export type QueryState<R> =
  | { status: 'loading'; rows: undefined; error: undefined }
  | { status: 'ready'; rows: readonly R[]; error: undefined }
  | { status: 'error'; rows: undefined; error: unknown };

const LOADING = { status: 'loading', rows: undefined, error: undefined } as const;

/** Live rows of a query on the local replica; re-renders only when they change. */
export function useQuery<R extends Row = Row>(sql: string, params: SqlParams = [], options: { enabled?: boolean } = {}): QueryState<R> {
  const client = useQuireClient();
  const enabled = options.enabled ?? true;
  const key = JSON.stringify(params);
  const state = useRef<QueryState<R>>(LOADING);
  const stableParams = useMemo(() => params, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  const subscribe = useCallback(
    (notify: () => void) => {
      state.current = LOADING;
      if (!enabled) return () => {};
      return client.subscribe<R>(
        sql,
        stableParams,
        (rows) => {
          state.current = { status: 'ready', rows, error: undefined };
          notify();
        },
        (error) => {
          state.current = { status: 'error', rows: undefined, error };
          notify();
        },
      );
    },
    [client, sql, stableParams, enabled],
  );
  return useSyncExternalStore(subscribe, () => state.current, () => state.current);
}
