import type { MutateApi, Reducers } from '@quire/core';
import { useQuireClient } from './quire-provider.js';

/** The typed `mutate` object of the client in context. */
export function useMutate<R extends Reducers>(): MutateApi<R> {
  return useQuireClient<R>().mutate;
}
