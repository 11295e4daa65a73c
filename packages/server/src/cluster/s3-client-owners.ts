import { ObjectKeys } from '../log/s3/object-keys.js';
import type { S3Store } from '../log/s3/s3-store.js';

/**
 * Which user each client id of a document belongs to, shared by every node
 * of a cluster: one object per client id, `<prefix>docs/<docId>/owners/<id>`,
 * written once with `If-None-Match: *`. The first user to claim an id
 * anywhere keeps it, even after the document moves to another node. A
 * binding never changes, so each node caches what it has read (`ClientOwners`).
 */
export class S3ClientOwners {
  constructor(private readonly store: S3Store) {}

  /** The user `clientId` of `docId` belongs to, binding it to `userId` if nobody has it. */
  async claim(docId: string, clientId: string, userId: string): Promise<string> {
    const key = new ObjectKeys(this.store.prefix, docId).owner(clientId);
    const result = await this.store.putIfAbsent(key, new TextEncoder().encode(userId));
    return result.written ? userId : new TextDecoder().decode(result.existing);
  }
}
