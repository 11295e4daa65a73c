import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QuireError } from '@quire/core';
import { isValidDocId } from '@quire/core/protocol';

/** The documents a CLI command works on: `docId`, or every document folder in `dataDir`. */
export function documentFolders(dataDir: string, docId: string | undefined): Array<{ docId: string; dir: string }> {
  if (!existsSync(dataDir)) throw new QuireError('invalid_doc_id', `data directory ${dataDir} does not exist — pass the folder given to quire serve --data`);
  if (docId !== undefined) {
    const dir = join(dataDir, docId);
    if (!isValidDocId(docId) || !existsSync(dir)) throw new QuireError('invalid_doc_id', `no document "${docId}" in ${dataDir} — run quire inspect ${dataDir} to list them`);
    return [{ docId, dir }];
  }
  return readdirSync(dataDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && isValidDocId(e.name) && ['commits.qlog', 'log', 'document.sqlite'].some((f) => existsSync(join(dataDir, e.name, f))))
    .map((e) => ({ docId: e.name, dir: join(dataDir, e.name) }))
    .sort((a, b) => a.docId.localeCompare(b.docId));
}
