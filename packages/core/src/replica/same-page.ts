import { HEADER } from '../page/page.js';

/**
 * Whether two images of page `pgno` read the same to SQLite (null: no
 * image, read as zeros or missing). Page 1 is compared without the bytes
 * the replica rewrites on its way to SQLite (the WAL flags, the change
 * counter and its "valid for" copy, see presentHeader): a commit that only
 * moved the server's counter changes nothing a read or a reducer sees.
 * With `allocation: false`, the page count and the freelist fields are
 * skipped too: only pragmas report them, and only writes use them.
 */
export function samePage(pgno: number, a: Uint8Array | null, b: Uint8Array | null, allocation = true): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  if (pgno !== 1) return bytesEqual(a, b, 0, a.length);
  const counterEnd = allocation ? HEADER.changeCounter + 4 : HEADER.freelistCount + 4;
  return (
    bytesEqual(a, b, 0, HEADER.writeVersion) &&
    bytesEqual(a, b, HEADER.readVersion + 1, HEADER.changeCounter) &&
    bytesEqual(a, b, counterEnd, HEADER.versionValidFor) &&
    bytesEqual(a, b, HEADER.versionValidFor + 4, a.length)
  );
}

/**
 * Whether `a` and `b` agree on [from, to). A 32-bit word at a time where the
 * views are aligned: live queries compare every page they read after each
 * commit, and page 1 changes with every one.
 */
function bytesEqual(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  if (from % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const x = new Int32Array(a.buffer, a.byteOffset + from, (to - from) >> 2);
    const y = new Int32Array(b.buffer, b.byteOffset + from, x.length);
    for (let w = 0; w < x.length; w++) if (x[w] !== y[w]) return false;
    i = from + x.length * 4;
  }
  for (; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
