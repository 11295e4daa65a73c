/**
 * The worker that runs the sync engine for every tab of this browser profile:
 * the replica, its IndexedDB copy, the pending queue and the socket.
 */
import { runQuireWorker } from '@quire/core/browser';
import { reducers } from './reducers.js';

runQuireWorker({ reducers });
