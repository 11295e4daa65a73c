import { S3CommitLog } from '../../src/log/s3/s3-commit-log.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { S3Store } from '../../src/log/s3/s3-store.js';

/** The LSNs of a document's commits in the bucket, as a fresh reader of the chain sees them. */
export async function bucketLsns(s3: S3LogOptions, docId = 'doc'): Promise<number[]> {
  const store = new S3Store(s3);
  const log = new S3CommitLog(store, docId);
  try {
    await log.open();
    const lsns: number[] = [];
    for await (const r of log.readAfter(0)) lsns.push(r.lsn);
    return lsns;
  } finally {
    await log.close();
    store.close();
  }
}
