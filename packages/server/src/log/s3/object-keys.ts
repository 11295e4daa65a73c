import { QuireError } from '@quire/core';

const MAX_U64 = (1n << 64n) - 1n;

/**
 * Where a document's objects live in the bucket (see docs/STORAGE.md):
 * `<prefix>docs/<docId>/commits/<first LSN, bits inverted, 16 hex>` and
 * `<prefix>docs/<docId>/checkpoints/<LSN, bits inverted>`, so that a LIST,
 * which returns keys in ascending order, returns the newest first; with
 * several nodes also `.../lease` and `.../owners/<client id, base64url>`.
 */
export class ObjectKeys {
  /** `prefix` as given, with a `/` added unless empty or already there. */
  readonly commits: string;
  readonly checkpoints: string;
  /** Which node coordinates the document (see `DocumentLease`). */
  readonly lease: string;
  private readonly owners: string;

  constructor(prefix: string, docId: string) {
    const base = `${ObjectKeys.documents(prefix)}${docId}/`;
    this.commits = `${base}commits/`;
    this.checkpoints = `${base}checkpoints/`;
    this.lease = `${base}lease`;
    this.owners = `${base}owners/`;
  }

  /** The folder that holds one folder per document: `<prefix>docs/`. */
  static documents(prefix: string): string {
    return `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}docs/`;
  }

  /** Which user a client id belongs to (client ids may hold characters S3 keys treat specially; base64url has none). */
  owner(clientId: string): string {
    return this.owners + Buffer.from(clientId).toString('base64url');
  }

  /** The key of the commit object whose first commit is `lsn`. */
  commit(lsn: number): string {
    return this.commits + invert(lsn);
  }

  /** The first LSN named by a key under {@link commits}; `corrupt_log` for a key Quire did not write. */
  firstLsn(key: string): number {
    return lsnOf(key, this.commits, 'commit objects', 1);
  }

  /** The key of the checkpoint at `lsn`. */
  checkpoint(lsn: number): string {
    return this.checkpoints + invert(lsn);
  }

  /** The LSN named by a key under {@link checkpoints}; `corrupt_log` for a key Quire did not write. */
  checkpointLsn(key: string): number {
    return lsnOf(key, this.checkpoints, 'checkpoints', 0);
  }
}

function lsnOf(key: string, folder: string, what: string, lowest: number): number {
  const name = key.slice(folder.length);
  if (!key.startsWith(folder) || !/^[0-9a-f]{16}$/.test(name)) {
    throw new QuireError('corrupt_log', `object "${key}" sits among the ${what} but is not named like one (16 lowercase hex digits) — move it out of "${folder}"; Quire only writes ${what} there`);
  }
  const lsn = MAX_U64 - BigInt(`0x${name}`);
  if (lsn < BigInt(lowest) || lsn > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuireError('corrupt_log', `object "${key}" names LSN ${lsn}, which Quire never writes — move it out of "${folder}"`);
  }
  return Number(lsn);
}

function invert(lsn: number): string {
  return (MAX_U64 - BigInt(lsn)).toString(16).padStart(16, '0');
}
