import { useMemo } from 'react';
import type { SqlParams } from '@quire/core';
import { paramsKey } from './params-key.js';

/** `params` as of the last render in which their values changed, so inline arrays do not resubscribe. */
export function useStableParams(params: SqlParams | undefined): SqlParams | undefined {
  const key = paramsKey(params);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- compared by value through `key`
  return useMemo(() => params, [key]);
}
