import { useSyncStatus } from '@quire/react';

/**
 * Tells the user when this page's code and the server's differ in version:
 * - `update_required` (the server runs a newer app): a banner asking to
 *   reload. Edits still sync meanwhile, but the server may refuse some.
 * - `engine_superseded` (another build opened this list in another tab, and
 *   its worker syncs it now): the same banner; this tab can no longer edit.
 * - `waiting_for_server` (the server runs an older app, a deploy is rolling
 *   out): a quieter note. Edits stay on this device until the server is updated.
 */
export function UpdateBanner() {
  const { connection, lastError } = useSyncStatus();
  // Another build of the app opened this list in another tab and took its engine over.
  const superseded = lastError?.code === 'engine_superseded';
  if (connection === 'update_required' || superseded) {
    return (
      <div className="update-banner" role="alert" data-testid="update-banner">
        {superseded ? 'A new version of the app is open in another tab' : 'A new version is available'} —{' '}
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
