import type { S3LogOptions } from '../../packages/server/src/log/s3/s3-log-options.js';
import { rgw } from '../../packages/server/test/s3/rgw.js';

/** The `quire serve` flags and environment for a commit log under `s3` (the test RGW's bucket and a prefix). */
export async function s3ServeOptions(s3: S3LogOptions): Promise<{ args: string[]; env: Record<string, string> }> {
  const { credentials } = await rgw();
  return {
    args: ['--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint!, '--s3-prefix', s3.prefix!],
    env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
  };
}
