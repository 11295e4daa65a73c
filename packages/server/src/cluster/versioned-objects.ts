/**
 * The few object-store operations a lease needs: a read that returns the
 * object's version (its ETag), and two conditional writes. An
 * implementation answers `undefined` for a write it lost; when the store
 * cannot tell lost from won (RGW answers 500 to the loser of an `If-Match`
 * race), it re-reads and compares before answering.
 */
export interface VersionedObjects {
  get(key: string): Promise<VersionedObject | undefined>;
  /** Writes `data` only if nothing is at `key` (`If-None-Match: *`). Returns the new version, or undefined if lost. */
  putIfAbsent(key: string, data: Uint8Array): Promise<string | undefined>;
  /** Writes `data` only if `key` is still at `version` (`If-Match`). Returns the new version, or undefined if lost. */
  putIfVersion(key: string, data: Uint8Array, version: string): Promise<string | undefined>;
}

export interface VersionedObject {
  data: Uint8Array;
  version: string;
}

/** VersionedObjects in memory, with the same conditional rules, for unit tests and single-process use. */
export class MemoryObjects implements VersionedObjects {
  private readonly objects = new Map<string, VersionedObject>();
  private versions = 0;

  async get(key: string): Promise<VersionedObject | undefined> {
    const object = this.objects.get(key);
    return object && { data: object.data.slice(), version: object.version };
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<string | undefined> {
    if (this.objects.has(key)) return undefined;
    return this.store(key, data);
  }

  async putIfVersion(key: string, data: Uint8Array, version: string): Promise<string | undefined> {
    if (this.objects.get(key)?.version !== version) return undefined;
    return this.store(key, data);
  }

  private store(key: string, data: Uint8Array): string {
    const version = `v${++this.versions}`;
    this.objects.set(key, { data: data.slice(), version });
    return version;
  }
}
