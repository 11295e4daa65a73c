import type { Reducers } from '../reducers/define-reducers.js';
import type { QuireClient } from './client.js';
import type { PresenceHub } from './presence-hub.js';
import { SyncClient } from './sync-client.js';

/**
 * The presence hub behind a client from `createClient`: for a browser engine
 * host, which sets one state per tab on its one connection (see
 * `PresenceHub`). Internal: no semver promise.
 */
export function presenceHubOf(client: QuireClient<Reducers, unknown>): PresenceHub {
  if (!(client instanceof SyncClient)) throw new TypeError('presenceHubOf: expected a client made by createClient');
  return client.presenceHub;
}
