import type { SyncStatus } from '@quire/core';

/**
 * What the sync bar tells the user, from the client's status:
 * - `offline-by-choice`: they pressed "Go offline"; nothing is retried.
 * - `reconnecting`: they want to be online, but the server cannot be reached
 *   (an attempt failed or the connection dropped); the client keeps retrying.
 * - `connecting`: the first attempt, nothing has failed yet.
 * - `connected`, `update_required`, `waiting_for_server`, `unauthorized`,
 *   `closed`: as the connection says.
 */
export type SyncState = 'connected' | 'connecting' | 'reconnecting' | 'offline-by-choice' | 'update_required' | 'waiting_for_server' | 'unauthorized' | 'closed';

export function syncStateOf(status: Pick<SyncStatus, 'connection' | 'offlineByChoice' | 'lastError'>): SyncState {
  const { connection, offlineByChoice, lastError } = status;
  if (offlineByChoice) return 'offline-by-choice';
  if (connection === 'offline') return 'reconnecting';
  // Between retries the client passes through `connecting` again; the error
  // of the failed attempt tells it apart from the first one.
  if (connection === 'connecting') return lastError ? 'reconnecting' : 'connecting';
  return connection;
}

export const SYNC_STATE_LABELS: Record<SyncState, string> = {
  connected: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting: server unreachable',
  'offline-by-choice': 'Offline by choice',
  update_required: 'Connected, but this version of the app is out of date',
  waiting_for_server: 'Waiting for the server to be updated',
  unauthorized: 'Not allowed to open this list',
  closed: 'Sync stopped',
};

/** The pending mutations in words: changes made here that the server has not confirmed yet. */
export function unsavedText(pending: number): string {
  if (pending === 0) return 'All changes saved';
  return pending === 1 ? '1 change not yet saved' : `${pending} changes not yet saved`;
}
