import type { ReducerArgs, Reducers } from '../reducers/define-reducers.js';

/** What a `mutate.<name>(args)` call returns. */
export interface MutationHandle {
  /** The mutation's sequence number for this client. */
  readonly seq: number;
  /** Settles once the reducer ran on the local replica (rejects if it threw there). */
  readonly local: Promise<void>;
  /** Settles once the server applied the mutation (resolves with the commit LSN) or rejected it. */
  readonly server: Promise<{ lsn: number }>;
}

/** `client.mutate`: one typed method per reducer. */
export type MutateApi<R extends Reducers> = {
  readonly [K in keyof ReducerArgs<R>]: undefined extends ReducerArgs<R>[K]
    ? (args?: ReducerArgs<R>[K]) => MutationHandle
    : unknown extends ReducerArgs<R>[K]
      ? (args?: ReducerArgs<R>[K]) => MutationHandle
      : (args: ReducerArgs<R>[K]) => MutationHandle;
};
