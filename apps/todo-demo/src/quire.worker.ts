/**
 * The worker that runs the sync engine for every tab of this browser profile:
 * the replica, its IndexedDB copy, the pending queue and the socket.
 * Replicas are partial: a list's pages come as the app reads them, and
 * "Save for offline" fetches the rest. A list of up to 1 MiB (some thousands
 * of todos) comes whole with its first read, in one round trip.
 */
import { runQuireWorker } from '@quire/core/browser';
import { reducers } from './reducers.js';

runQuireWorker({ reducers, partial: true, fetchWholeBelow: 1 << 20 });
