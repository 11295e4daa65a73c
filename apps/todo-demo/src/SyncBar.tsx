import { useSyncStatus } from '@quire/react';
import { OfflineCopy } from './OfflineCopy.js';

const LABELS = {
  connecting: 'connecting',
  connected: 'connected',
  offline: 'offline',
  unauthorized: 'unauthorized',
  closed: 'closed',
} as const;

/**
 * The connection indicator and the offline switch. The button follows what
 * the user asked for, not the socket: an unplanned drop also reads
 * "offline", but the client keeps reconnecting. The choice survives reloads.
 */
export function SyncBar() {
  const { connection, pending, lsn, lastError, offlineByChoice: wantOffline, goOffline, goOnline } = useSyncStatus();
  const toggle = () => (wantOffline ? goOnline() : goOffline());
  const problem = connection !== 'connected' && lastError && !wantOffline ? lastError.message : undefined;
  return (
    <aside className="sync-bar" aria-label="Sync">
      <span className="sync-status" data-testid="sync-status" data-connection={connection} role="status" title={problem}>
        <span className="sync-dot" aria-hidden="true" />
        <span data-testid="sync-connection">{LABELS[connection]}</span>
        <span className="sync-detail" data-testid="sync-pending" data-pending={pending}>
          {pending} pending
        </span>
        <span className="sync-detail" data-testid="sync-lsn">
          lsn {lsn}
        </span>
      </span>
      <OfflineCopy />
      <button type="button" className="sync-toggle" data-testid="sync-toggle" onClick={toggle}>
        {wantOffline ? 'Go online' : 'Go offline'}
      </button>
      {problem && connection === 'unauthorized' && (
        <p className="sync-problem" role="alert">
          {problem}
        </p>
      )}
    </aside>
  );
}
