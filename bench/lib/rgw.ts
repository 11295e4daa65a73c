import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

// As S3Store does: the SDK's Node 22 notice is noise for a pinned release that runs on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SCRIPT = fileURLToPath(new URL('../../scripts/s3-server.sh', import.meta.url));
export const BENCH_BUCKET = 'quire-bench';

export interface Rgw {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The Ceph RGW the S3 scenarios measure: QUIRE_S3_* from the environment, or
 * scripts/s3-server.sh start (installs RGW the first time, as root; leaves it
 * running). The bench bucket is made if missing.
 */
export async function rgw(): Promise<Rgw> {
  let env: Record<string, string | undefined> = process.env;
  if (!env.QUIRE_S3_ENDPOINT) {
    const out = execFileSync(SCRIPT, ['start'], { encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'inherit'] });
    env = Object.fromEntries(out.split('\n').flatMap((line) => (/^QUIRE_S3_/.test(line) ? [line.split('=', 2) as [string, string]] : [])));
  }
  const { QUIRE_S3_ENDPOINT: endpoint, QUIRE_S3_ACCESS_KEY: accessKeyId, QUIRE_S3_SECRET_KEY: secretAccessKey } = env;
  if (!endpoint || !accessKeyId || !secretAccessKey) throw new Error('no QUIRE_S3_* credentials from scripts/s3-server.sh start');
  // Server children started after this find RGW in their environment (see processes/quire-server.ts --s3-prefix).
  Object.assign(process.env, { QUIRE_S3_ENDPOINT: endpoint, QUIRE_S3_ACCESS_KEY: accessKeyId, QUIRE_S3_SECRET_KEY: secretAccessKey });
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  try {
    await client.send(new CreateBucketCommand({ Bucket: BENCH_BUCKET })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
  } finally {
    client.destroy();
  }
  return { endpoint, credentials: { accessKeyId, secretAccessKey } };
}
