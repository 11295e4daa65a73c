import { createHash } from 'node:crypto';

/**
 * A replica or server document reduced to one hash per page, so processes
 * can compare whole documents over IPC without shipping megabytes of pages.
 */
export interface PageDigest {
  lsn: number;
  pageCount: number;
  /** `[pgno, sha1]`, ascending by page number. */
  pages: Array<[number, string]>;
  /** Pages written by local mutations the server has not confirmed (0 for a server). */
  overlayPages: number;
}

export function digestPages(lsn: number, pageCount: number, pages: Iterable<{ pgno: number; data: Uint8Array }>, overlayPages = 0): PageDigest {
  const hashed: Array<[number, string]> = [];
  for (const { pgno, data } of pages) hashed.push([pgno, createHash('sha1').update(data).digest('hex')]);
  hashed.sort((a, b) => a[0] - b[0]);
  return { lsn, pageCount, pages: hashed, overlayPages };
}

/** How `mine` differs from `server`, as readable lines; none when page-identical at the same LSN. */
export function digestDifferences(mine: PageDigest, server: PageDigest, limit = 10): string[] {
  const out: string[] = [];
  if (mine.lsn !== server.lsn) out.push(`lsn ${mine.lsn} != server ${server.lsn}`);
  if (mine.pageCount !== server.pageCount) out.push(`pageCount ${mine.pageCount} != server ${server.pageCount}`);
  if (mine.overlayPages > 0) out.push(`overlay still has ${mine.overlayPages} pages`);
  const held = new Map(mine.pages);
  for (const [pgno, hash] of server.pages) {
    const own = held.get(pgno);
    if (own === undefined) out.push(`page ${pgno} missing`);
    else if (own !== hash) out.push(`page ${pgno} differs`);
    held.delete(pgno);
  }
  for (const pgno of held.keys()) out.push(`page ${pgno} is not on the server`);
  return out.length > limit ? [...out.slice(0, limit), `… ${out.length - limit} more`] : out;
}
