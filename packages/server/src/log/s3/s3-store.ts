import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type S3LogOptions, S3_DEFAULTS } from './s3-log-options.js';
import { describeFailure, isTransient, storageError } from './storage-error.js';

/** The answer to a conditional PUT: written, or the bytes already at that key. */
export type PutIfAbsentResult = { written: true; etag: string } | { written: false; existing: Uint8Array };

/** Thrown inside an attempt to ask for another one (counted against the same deadline). */
class TryAgain extends Error {}

/**
 * The few S3 calls the commit log makes, on one bucket, with retries: network
 * errors and 5xx answers are retried with backoff for `retryForMs`, then
 * become `storage_unreachable`; other failures become typed errors at once
 * (see storage-error.ts). One store serves every document of a server.
 */
export class S3Store {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly endpoint: string;
  private readonly retryForMs: number;

  /** `onFailedRequest` hears of each attempt that failed, retried or not (for metrics). */
  constructor(
    options: S3LogOptions,
    private readonly hooks: { onFailedRequest?(operation: string): void } = {},
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.endpoint = options.endpoint ?? 'AWS S3';
    this.retryForMs = options.retryForMs ?? S3_DEFAULTS.retryForMs;
    // The SDK warns on Node 20 that its releases after early 2027 need Node 22;
    // Quire pins one that runs on Node 20, so the warning only confuses
    // operators. An explicit setting wins.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? S3_DEFAULTS.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      // Retries are ours, so that one deadline covers them and a conditional
      // PUT's unclear answer is always looked into.
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: S3_DEFAULTS.connectTimeoutMs,
        socketTimeout: options.idleTimeoutMs ?? S3_DEFAULTS.idleTimeoutMs,
      },
      // Objects carry their own CRCs; the SDK's extra checksums are not
      // understood by every S3-compatible store.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /**
   * Writes `body` at `key` unless something is there (`If-None-Match: *`).
   * On 412, and on 500 (Ceph RGW's answer to some lost conditional races),
   * reads what is there: that may be this writer's own earlier attempt,
   * whose answer was lost.
   */
  putIfAbsent(key: string, body: Uint8Array): Promise<PutIfAbsentResult> {
    return this.retrying('PUT', key, async () => {
      try {
        const answer = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*' }));
        return { written: true, etag: unquote(answer.ETag ?? '') };
      } catch (error) {
        const { status } = describeFailure(error);
        if (status !== 412 && status !== 500) throw error;
        const existing = await this.getOnce(key);
        if (existing) return { written: false, existing };
        // Nothing there after all: a plain server error, or a key deleted in between.
        throw new TryAgain(`PUT got ${status} but nothing is at the key`, { cause: error });
      }
    });
  }

  /** The object's bytes, or undefined if there is no such key. */
  get(key: string): Promise<Uint8Array | undefined> {
    return this.retrying('GET', key, () => this.getOnce(key));
  }

  /** `length` bytes of the object from `offset` (a range GET), or undefined if there is no such key. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    if (length <= 0) return Promise.resolve(new Uint8Array(0));
    return this.retrying('GET', key, () => this.getOnce(key, `bytes=${offset}-${offset + length - 1}`));
  }

  /** The object's size in bytes, or undefined if there is no such key. */
  size(key: string): Promise<number | undefined> {
    return this.retrying('HEAD', key, async () => {
      try {
        return (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))).ContentLength ?? 0;
      } catch (error) {
        const { code, status } = describeFailure(error);
        if (code === 'NotFound' || code === 'NoSuchKey' || status === 404) return undefined;
        throw error;
      }
    });
  }

  /** The object's bytes and ETag (without quotes), or undefined if there is no such key. */
  getVersioned(key: string): Promise<{ data: Uint8Array; etag: string } | undefined> {
    return this.retrying('GET', key, () => this.getVersionedOnce(key));
  }

  /**
   * Writes `body` at `key` only if the object there still has `etag`
   * (`If-Match`, sent without quotes: RGW refuses a quoted one). Returns the
   * new ETag, or undefined if another write got there first. RGW answers 500
   * to the loser of an `If-Match` race, and a lost answer may hide a write
   * that landed, so both are settled by reading the object back.
   */
  putIfMatch(key: string, body: Uint8Array, etag: string): Promise<string | undefined> {
    return this.retrying('PUT', key, async () => {
      try {
        const answer = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfMatch: etag }));
        return unquote(answer.ETag ?? '');
      } catch (error) {
        const { status } = describeFailure(error);
        if (status !== 412 && status !== 500) throw error;
        const now = await this.getVersionedOnce(key);
        return now && Buffer.compare(now.data, body) === 0 ? now.etag : undefined;
      }
    });
  }

  /** Deletes the object; deleting a key that is not there is not an error. */
  delete(key: string): Promise<void> {
    return this.retrying('DELETE', key, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    });
  }

  /**
   * Keys under `prefix` in ascending order, listed a page at a time: the
   * first of at most `firstPage` keys (callers that need only the first few
   * keys say so), the others of 1,000.
   */
  async *list(prefix: string, firstPage = 1000): AsyncIterable<string> {
    for await (const page of this.pages(prefix, firstPage)) {
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
    }
  }

  /** Like {@link list}, with each object's size in bytes (a LIST answer carries them anyway). */
  async *listSized(prefix: string, firstPage = 1000): AsyncIterable<{ key: string; size: number }> {
    for await (const page of this.pages(prefix, firstPage)) {
      for (const object of page.Contents ?? []) if (object.Key) yield { key: object.Key, size: object.Size ?? 0 };
    }
  }

  /**
   * The "folders" right under `prefix`, in ascending order: each distinct
   * `prefix + name + "/"` that starts some key (S3's common prefixes), so
   * one LIST page names up to 1,000 of them however many keys each holds.
   */
  async *listFolders(prefix: string): AsyncIterable<string> {
    for await (const page of this.pages(prefix, 1000, '/')) {
      for (const folder of page.CommonPrefixes ?? []) if (folder.Prefix) yield folder.Prefix;
    }
  }

  private async *pages(prefix: string, firstPage: number, delimiter?: string): AsyncIterable<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    let pageSize = firstPage;
    do {
      const page = await this.retrying('LIST', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: pageSize, ...(delimiter ? { Delimiter: delimiter } : {}), ...(token ? { ContinuationToken: token } : {}) }),
        ),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pageSize = 1000;
    } while (token);
  }

  /** Closes the connections; the store cannot be used afterwards. */
  close(): void {
    this.client.destroy();
  }

  private async getOnce(key: string, range?: string): Promise<Uint8Array | undefined> {
    return (await this.getVersionedOnce(key, range))?.data;
  }

  private async getVersionedOnce(key: string, range?: string): Promise<{ data: Uint8Array; etag: string } | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: range } : {}) }));
      return { data: await answer.Body!.transformToByteArray(), etag: unquote(answer.ETag ?? '') };
    } catch (error) {
      if (describeFailure(error).code === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  private async retrying<T>(operation: string, key: string, attempt: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let backoff: number = S3_DEFAULTS.firstBackoffMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        this.hooks.onFailedRequest?.(operation);
        const cause = error instanceof TryAgain ? error.cause : error;
        const retry = error instanceof TryAgain || isTransient(describeFailure(error));
        const spent = performance.now() - start;
        if (!retry || spent + backoff > this.retryForMs) {
          throw storageError(cause, { operation, bucket: this.bucket, key, endpoint: this.endpoint }, retry ? spent : undefined);
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, S3_DEFAULTS.maxBackoffMs);
      }
    }
  }
}

// S3 quotes ETags; RGW's If-Match matches only an unquoted one.
function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
