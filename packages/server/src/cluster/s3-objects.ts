import type { S3Store } from '../log/s3/s3-store.js';
import type { VersionedObject, VersionedObjects } from './versioned-objects.js';

/** {@link VersionedObjects} in an S3 bucket: versions are ETags, conditions are `If-None-Match` and `If-Match`. */
export class S3Objects implements VersionedObjects {
  constructor(private readonly store: S3Store) {}

  async get(key: string): Promise<VersionedObject | undefined> {
    const object = await this.store.getVersioned(key);
    return object && { data: object.data, version: object.etag };
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<string | undefined> {
    const result = await this.store.putIfAbsent(key, data);
    if (result.written) return result.etag;
    // Our own earlier attempt, whose answer was lost, counts as written.
    if (Buffer.compare(result.existing, data) !== 0) return undefined;
    const now = await this.store.getVersioned(key);
    return now && Buffer.compare(now.data, data) === 0 ? now.etag : undefined;
  }

  putIfVersion(key: string, data: Uint8Array, version: string): Promise<string | undefined> {
    return this.store.putIfMatch(key, data, version);
  }
}
