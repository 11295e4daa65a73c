import { useSyncStatus } from '@quire/react';
import { OfflineCopy } from './OfflineCopy.js';
import { SYNC_STATE_LABELS, syncStateOf, unsavedText } from './sync-state.js';

/**
 * The connection indicator and the offline switch. It tells apart being
 * offline by choice from a server that cannot be reached (the client keeps
 * retrying), and counts unsaved changes in words. The button follows what
 * the user asked for, not the socket; the choice survives reloads.
 */
export function SyncBar() {
  const status = useSyncStatus();
  const { connection, pending, lsn, lastError, offlineByChoice, goOffline, goOnline } = status;
  const state = syncStateOf(status);
  const toggle = () => (offlineByChoice ? goOnline() : goOffline());
  const problem = state === 'reconnecting' || state === 'unauthorized' || state === 'closed' ? lastError?.message : undefined;
  const unsavedHint = pending > 0 ? 'Kept on this device and sent once the server is reachable' : undefined;
  return (
    <aside className="sync-bar" aria-label="Sync">
      <span
        className="sync-status"
        data-testid="sync-status"
        data-state={state}
        data-connection={connection}
        data-lsn={lsn}
        role="status"
        title={problem}
      >
        <span className="sync-dot" aria-hidden="true" />
        <span data-testid="sync-connection">{SYNC_STATE_LABELS[state]}</span>
        <span className="sync-detail" data-testid="sync-pending" data-pending={pending} title={unsavedHint}>
          {unsavedText(pending)}
        </span>
      </span>
      <span className="sync-actions">
        <OfflineCopy />
        <button type="button" className="sync-toggle" data-testid="sync-toggle" onClick={toggle}>
          {offlineByChoice ? 'Go online' : 'Go offline'}
        </button>
      </span>
      {problem && connection === 'unauthorized' && (
        <p className="sync-problem" role="alert">
          {problem}
        </p>
      )}
    </aside>
  );
}
