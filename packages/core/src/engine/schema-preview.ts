import type { Migration } from '../reducers/define-app.js';
import { CallTx, reducerTx } from '../reducers/reducer-tx.js';
import type { ReplicaDb } from '../replica/replica-db.js';

/**
 * Runs the app's migrations on a replica that has never synced (LSN 0), in
 * its overlay: the schema a new document gets from the server, shown before
 * the server sent it, so that calls and queries work offline from the first
 * start. Only the server's migration is real: the first snapshot replaces
 * the overlay, and pending calls replay on it. Best effort: a step that
 * fails here rolls the preview back, and the calls wait for the server.
 */
export function previewSchema(db: ReplicaDb, migrations: readonly Migration[]): boolean {
  if (migrations.length === 0 || db.pages.lsn !== 0) return false;
  db.exec('BEGIN');
  try {
    migrations.forEach((step, i) => {
      if (typeof step === 'string') {
        db.exec(step);
        return;
      }
      const tx = new CallTx(reducerTx(db), `migration ${i + 1}`);
      try {
        step(tx);
      } finally {
        tx.close();
      }
    });
    db.exec('COMMIT');
    return true;
  } catch {
    if (db.inTransaction()) db.exec('ROLLBACK');
    return false;
  }
}
