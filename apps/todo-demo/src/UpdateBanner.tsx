import { useSyncStatus } from '@quire/react';

/**
 * Tells the user when this page's code and the server's differ in version:
 * - `update_required` (the server runs a newer app): a banner asking to
 *   reload. Edits still sync meanwhile, but the server may refuse some.
 * - `waiting_for_server` (the server runs an older app, a deploy is rolling
 *   out): a quieter note. Edits stay on this device until the server is updated.
 */
export function UpdateBanner() {
  const { connection } = useSyncStatus();
  if (connection === 'update_required') {
    return (
      <div className="update-banner" role="alert" data-testid="update-banner">
        A new version is available —{' '}
        <button type="button" className="update-reload" data-testid="update-reload" onClick={() => window.location.reload()}>
          reload
        </button>
      </div>
    );
  }
  if (connection === 'waiting_for_server') {
    return (
      <p className="update-note" role="status" data-testid="update-waiting">
        This page is newer than the server, which is being updated. Your changes are kept on this device and sent once it is.
      </p>
    );
  }
  return null;
}
