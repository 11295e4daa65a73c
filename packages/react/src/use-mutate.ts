import type { MutateApi, Reducers } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/**
 * The typed `mutate` object of the client in context: one method per reducer.
 * Pass the reducers' type, since the context does not carry it. The object is
 * the client's own, so it keeps its identity across renders.
 *
 * @example
 * const mutate = useMutate<typeof reducers>();
 * mutate.addTodo({ id: crypto.randomUUID(), title });
 */
export function useMutate<R extends Reducers>(): MutateApi<R> {
  return useQuireClient<R>().mutate;
}
