/**
 * Reads the b-tree header of a page image (https://sqlite.org/fileformat.html#b_tree_pages):
 * enough to know an interior page's children, in key order, for prefetch.
 */
export const BTREE = {
  interiorIndex: 2,
  interiorTable: 5,
  leafIndex: 10,
  leafTable: 13,
} as const;

/** The number of cells on a b-tree page; undefined for any other page. */
export function cellCount(page: Uint8Array, pgno: number): number | undefined {
  const h = pgno === 1 ? 100 : 0;
  const type = page[h];
  if (type !== BTREE.interiorIndex && type !== BTREE.interiorTable && type !== BTREE.leafIndex && type !== BTREE.leafTable) return undefined;
  return (page[h + 3]! << 8) | page[h + 4]!;
}

/** The child page numbers of an interior b-tree page, left to right; undefined for any other page. */
export function interiorChildren(page: Uint8Array, pgno: number): number[] | undefined {
  // Page 1 starts with the 100-byte database header.
  const h = pgno === 1 ? 100 : 0;
  const type = page[h];
  if (type !== BTREE.interiorIndex && type !== BTREE.interiorTable) return undefined;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const cells = view.getUint16(h + 3);
  if (h + 12 + cells * 2 > page.length) return undefined;
  const children: number[] = [];
  for (let i = 0; i < cells; i++) {
    const cell = view.getUint16(h + 12 + i * 2);
    if (cell + 4 > page.length) return undefined;
    children.push(view.getUint32(cell));
  }
  children.push(view.getUint32(h + 8));
  return children;
}
