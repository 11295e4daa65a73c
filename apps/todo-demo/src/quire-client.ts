/**
 * The one place that knows how the app gets its Quire client. Everything
 * else takes the client from <QuireProvider>.
 *
 * The engine runs in a SharedWorker, so all tabs of the browser share one
 * replica and one socket per list, and the UI thread only renders. Where
 * SharedWorker is missing, one tab leads and runs it in a dedicated worker.
 */
import type { QuireClient } from '@quire/core';
import { createBrowserClient } from '@quire/core/browser';
import { type TodoPresence, initialPresence } from './presence.js';
import { reducers, type TodoReducers } from './reducers.js';

export type TodoClient = QuireClient<TodoReducers, TodoPresence>;

/** Opens the list `listId` (a Quire document) and starts syncing it. */
export function openList(listId: string): TodoClient {
  return createBrowserClient({
    url: '/sync',
    docId: listId,
    reducers,
    // Each tab is on the list under the name this browser goes by (presence.ts).
    presence: initialPresence(),
    sharedWorker: () => new SharedWorker(new URL('./quire.worker.ts', import.meta.url), { type: 'module', name: 'quire' }),
    worker: () => new Worker(new URL('./quire.worker.ts', import.meta.url), { type: 'module', name: 'quire' }),
  });
}
