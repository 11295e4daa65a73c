import type { PageImage } from '../page/page.js';
import { CLIENTS_TABLE } from '../reducers/sql-dialect.js';
import type { ReplicaDb } from '../replica/replica-db.js';

/** A new server state for the base: a full snapshot, or the pages changed since the base's LSN. */
export interface BaseUpdate {
  kind: 'snapshot' | 'commit';
  lsn: number;
  pageCount: number;
  pages: readonly PageImage[];
  /** Changed pages sent without images (a partial replica did not hold them): any copy must go. */
  forgotten?: readonly number[];
}

/**
 * Moves the replica's base onto a new server state and drops the overlay; the
 * engine then settles what the base contains and re-applies the rest.
 *
 * The server records each client's last applied `seq` in the document itself,
 * atomically with the mutation's effects, so reading it from the new base
 * tells exactly which pending mutations the base already contains.
 */
export function moveBase(db: ReplicaDb, update: BaseUpdate): void {
  if (update.kind === 'snapshot') db.pages.resetBase(update.lsn, update.pageCount, update.pages);
  else {
    db.pages.dropOverlay();
    db.pages.applyToBase(update.lsn, update.pageCount, update.pages);
    if (update.forgotten) db.pages.forgetBasePages(update.forgotten);
  }
}

/** The last `seq` of this client that the server applied, as recorded in the document. */
export function readLastSeq(db: ReplicaDb, clientId: string): number {
  const exists = db.get(`SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = '${CLIENTS_TABLE}'`);
  if (!exists) return 0;
  const row = db.get<{ last_seq: number }>(`SELECT last_seq FROM ${CLIENTS_TABLE} WHERE client_id = ?`, [clientId]);
  return row?.last_seq ?? 0;
}
