import { QuireError } from '@quire/core';
import { isValidDocId } from '@quire/core/protocol';
import { ObjectKeys } from '../log/s3/object-keys.js';
import type { S3Store } from '../log/s3/s3-store.js';

// Documents checked at once for holding a log (one LIST each).
const CONCURRENT_CHECKS = 8;

/**
 * The documents of a bucket a CLI command works on: `docId`, or every folder
 * under `<prefix>docs/` that holds a log. A folder with only a lease or client
 * owners is a document that never opened, and is left out. `where` names the
 * bucket in errors.
 */
export async function bucketDocuments(store: S3Store, docId: string | undefined, where: string): Promise<string[]> {
  if (docId !== undefined) {
    if (isValidDocId(docId) && (await holdsLog(store, docId))) return [docId];
    throw new QuireError('invalid_doc_id', `no document "${docId}" in ${where} — check the id, --s3-bucket and --s3-prefix`);
  }
  const folder = ObjectKeys.documents(store.prefix);
  const ids: string[] = [];
  for await (const key of store.listFolders(folder)) {
    const id = key.slice(folder.length, -1);
    if (isValidDocId(id)) ids.push(id);
  }
  const found: string[] = [];
  for (let i = 0; i < ids.length; i += CONCURRENT_CHECKS) {
    const batch = ids.slice(i, i + CONCURRENT_CHECKS);
    const kept = await Promise.all(batch.map((id) => holdsLog(store, id)));
    found.push(...batch.filter((_, j) => kept[j]));
  }
  return found;
}

// Keys under a document's folder sort checkpoints/, commits/, lease, owners/: the first says whether it has a log.
async function holdsLog(store: S3Store, docId: string): Promise<boolean> {
  const keys = new ObjectKeys(store.prefix, docId);
  for await (const key of store.list(`${ObjectKeys.documents(store.prefix)}${docId}/`, 1)) {
    return key.startsWith(keys.checkpoints) || key.startsWith(keys.commits);
  }
  return false;
}
