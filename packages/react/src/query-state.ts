import type { Row } from '@quire/core';

/**
 * What {@link useQuery} returns.
 * - `loading`: no result yet (also while the query is disabled).
 * - `ready`: `rows` is the latest result.
 * - `error`: the query failed; `rows` keeps the last result, if there was one.
 *
 * `rows` and every row in it are frozen. A row that did not change between two
 * results is the same object, and an unchanged result is the same array.
 */
export type QueryState<T> =
  | { readonly status: 'loading'; readonly rows: undefined; readonly error: undefined }
  | { readonly status: 'ready'; readonly rows: readonly T[]; readonly error: undefined }
  | { readonly status: 'error'; readonly rows: readonly T[] | undefined; readonly error: unknown };

export type QueryStatus = QueryState<unknown>['status'];

export const LOADING: QueryState<never> = Object.freeze({ status: 'loading', rows: undefined, error: undefined });

/** Options of {@link useQuery} and {@link useSuspenseQuery}. */
export interface LiveQueryOptions<T = Row> {
  /**
   * A column that identifies a row (usually the primary key). A row keeps its
   * object identity when a row with the same key and the same values was in
   * the previous result, wherever it moved. Default: rows are matched by
   * position.
   */
  rowKey?: Extract<keyof T, string>;
}
