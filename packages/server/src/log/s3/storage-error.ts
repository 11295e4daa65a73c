import { QuireError } from '@quire/core';

/** What the S3 client threw, in the few shapes that decide what to do next. */
export interface StorageFailure {
  /** HTTP status, or undefined when no answer came (network error, timeout). */
  status: number | undefined;
  /** The S3 error code (`NoSuchBucket`, `AccessDenied`, ...) or the Node error code (`ECONNREFUSED`). */
  code: string;
  message: string;
}

export function describeFailure(error: unknown): StorageFailure {
  const e = error as { $metadata?: { httpStatusCode?: number }; name?: string; Code?: string; code?: string; message?: string };
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? (status === undefined ? e.code : undefined) ?? e.name ?? 'Error';
  // The SDK says "UnknownError" for S3 errors whose body it did not parse.
  const message = e.message && e.message !== 'UnknownError' ? e.message : code;
  return { status, code, message };
}

/** Worth another attempt: no answer at all, throttling, or a server-side error. */
export function isTransient(f: StorageFailure): boolean {
  return f.status === undefined || f.status === 408 || f.status === 429 || f.status >= 500;
}

/** Where the failure happened, for messages: `PUT s3://bucket/key at http://...`. */
export interface StorageContext {
  operation: string;
  bucket: string;
  key: string;
  endpoint: string;
}

/** The typed error for a failure that will not be retried (again). */
export function storageError(error: unknown, at: StorageContext, triedForMs?: number): QuireError {
  const f = describeFailure(error);
  const where = `${at.operation} s3://${at.bucket}/${at.key} at ${at.endpoint}`;
  const why = f.status === undefined ? f.message : `${f.status} ${f.code}: ${f.message}`;
  if (f.status === 403 || f.code === 'CredentialsProviderError') {
    return new QuireError('storage_denied', `${where} was refused (${why}) — check the credentials (options.credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and that they may read and write the bucket`, { cause: error });
  }
  if (f.code === 'NoSuchBucket') {
    return new QuireError('storage_not_found', `${where}: bucket "${at.bucket}" does not exist (${why}) — create it, or fix the bucket name (--s3-bucket)`, { cause: error });
  }
  if (isTransient(f)) {
    const tried = triedForMs === undefined ? '' : ` for ${(triedForMs / 1000).toFixed(1)} s`;
    return new QuireError('storage_unreachable', `${where} failed${tried} (${why}) — check that the endpoint is right and the store is up; nothing was acknowledged that is not stored`, { cause: error });
  }
  return new QuireError('storage_error', `${where} was refused (${why}) — check the store's settings and logs`, { cause: error });
}
