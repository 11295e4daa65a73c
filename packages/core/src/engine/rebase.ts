import type { PageImage } from '../page/page.js';
import { decodePageChange } from '../page/page-delta.js';
import { CLIENTS_TABLE } from '../reducers/sql-dialect.js';
import type { ReplicaDb } from '../replica/replica-db.js';

/** A new server state for the base: a full snapshot, or the pages changed since the base's LSN. */
export interface BaseUpdate {
  kind: 'snapshot' | 'commit';
  lsn: number;
  pageCount: number;
  /** With an `encoding` other than 0, `data` is a delta from the base's image (commits only; see PageEncoding). */
  pages: readonly (PageImage & { encoding?: number })[];
  /** Changed pages sent without images (a partial replica did not hold them): any copy must go. */
  forgotten?: readonly number[];
}

/**
 * Moves the replica's base onto a new durable server state and drops the
 * overlay; the engine then settles what the base contains and re-applies the rest.
 *
 * The server records each client's last applied `seq` in the document itself,
 * atomically with the mutation's effects, so reading it from the new base
 * tells exactly which pending mutations the base already contains.
 */
export function moveBase(db: ReplicaDb, update: BaseUpdate): { pages: PageImage[]; dropped: number[] } {
  const { pages, dropped } = resolveDeltas(db, update);
  if (update.kind === 'snapshot') db.pages.resetBase(update.lsn, update.pageCount, pages);
  else {
    db.pages.dropOverlay();
    db.pages.applyToBase(update.lsn, update.pageCount, pages);
    db.pages.forgetBasePages(dropped);
  }
  return { pages, dropped };
}

/**
 * Shows a commit the server has not yet made durable as a layer over the
 * base. The overlay stays when `keepOverlay` (asked with the layer on) says
 * replaying the pending mutations would write it again as it is; otherwise
 * it is dropped, and the engine then skips the pending mutations the commit
 * contains and re-applies the rest. They stay pending until the commit is
 * durable.
 */
export function addLayer(db: ReplicaDb, update: BaseUpdate, keepOverlay: () => boolean = () => false): { pages: PageImage[]; dropped: number[]; kept: boolean } {
  const { pages, dropped } = resolveDeltas(db, update);
  // dropOverlay compares the local schema with the one it was written over.
  const under = db.pages.committedPage(1);
  db.pages.pushLayer(update.lsn, update.pageCount, pages, dropped);
  const kept = keepOverlay();
  if (!kept) db.pages.dropOverlay(under);
  return { pages, dropped, kept };
}

/**
 * Whole images for every page of an update. A delta for a page the base no
 * longer holds (a partial replica evicted it while the commit was on its
 * way) cannot be applied: that page is dropped like a forgotten one, and a
 * partial replica fetches it again when it needs it.
 */
function resolveDeltas(db: ReplicaDb, update: BaseUpdate): { pages: PageImage[]; dropped: number[] } {
  const pages: PageImage[] = [];
  const dropped = [...(update.forgotten ?? [])];
  for (const { pgno, data, encoding = 0 } of update.pages) {
    // A delta is from the page as the previous commit left it (the replica's newest layer, or its base),
    // and so is a sibling's image it names: nothing of this update is applied yet.
    const image = update.kind === 'commit' ? decodePageChange(db.pages.committedPage(pgno), encoding, data, (other) => db.pages.committedPage(other)) : decodePageChange(undefined, encoding, data);
    if (image) pages.push({ pgno, data: image });
    else dropped.push(pgno);
  }
  return { pages, dropped };
}

/** The last `seq` of this client that the server applied, as recorded in the document the replica shows. */
export function readLastSeq(db: ReplicaDb, clientId: string): number {
  const exists = db.get(`SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = '${CLIENTS_TABLE}'`);
  if (!exists) return 0;
  const row = db.get<{ last_seq: number }>(`SELECT last_seq FROM ${CLIENTS_TABLE} WHERE client_id = ?`, [clientId]);
  return row?.last_seq ?? 0;
}
