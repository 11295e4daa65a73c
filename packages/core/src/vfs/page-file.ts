/**
 * What the VFS needs from whatever stores a database's pages. The VFS turns
 * SQLite's byte-range I/O into whole-page calls on this interface.
 */
export interface PageFile {
  /** The file size in pages. */
  pageCount(): number;
  /**
   * A page image (not to be changed: it may be shared), or `undefined` when
   * the page exists but is not available locally. Valid until the next call:
   * the VFS copies it out at once.
   */
  read(pgno: number): Uint8Array | undefined;
  /** Stores a whole page, keeping `data` itself (the caller hands over a copy it never changes); the file grows to include it. */
  write(pgno: number, data: Uint8Array): void;
  /** Shrinks (or grows) the file to `pageCount` pages. */
  truncate(pageCount: number): void;
}
