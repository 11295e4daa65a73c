/**
 * Which worker a document lives on: a hash of its id (FNV-1a), so it is the
 * same for every connection and again after a worker restarts.
 */
export function documentSlot(docId: string, workers: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < docId.length; i++) {
    hash ^= docId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % workers;
}
