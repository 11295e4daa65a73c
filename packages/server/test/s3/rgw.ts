import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';

// As S3Store does: the SDK's Node 22 notice is noise for a pinned release that runs on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The real S3 server the S3 suites run against: Ceph RGW from
 * scripts/s3-server.sh. With QUIRE_S3_ENDPOINT (and _ACCESS_KEY,
 * _SECRET_KEY) set, those are used; otherwise the script is run, which
 * installs RGW if needed (root), boots it and leaves it running
 * (`scripts/s3-server.sh stop` stops it). Nothing is skipped: if neither
 * works, the suite fails and says how to start RGW.
 */
const SCRIPT = fileURLToPath(new URL('../../../../scripts/s3-server.sh', import.meta.url));
export const TEST_BUCKET = 'quire-tests';
/** Booting (and installing) RGW takes 20–40 s; give it room on a loaded machine. */
export const RGW_SETUP_TIMEOUT_MS = 240_000;

interface RgwEnv {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

let ready: Promise<RgwEnv> | undefined;

/** RGW's address and keys, with the test bucket made and the cluster warmed up. Call from `beforeAll`. */
export function rgw(): Promise<RgwEnv> {
  ready ??= setUp();
  return ready;
}

/** Options for a log on the test bucket under a prefix of its own. */
export async function rgwOptions(extra: Partial<S3LogOptions> = {}): Promise<S3LogOptions> {
  const env = await rgw();
  return { bucket: TEST_BUCKET, endpoint: env.endpoint, credentials: env.credentials, forcePathStyle: true, prefix: randomPrefix(), ...extra };
}

/** Writes an object unconditionally, as no Quire log does: for planting damage. */
export async function overwrite(options: S3LogOptions, key: string, body: Uint8Array): Promise<void> {
  const env = await rgw();
  const client = new S3Client({ endpoint: env.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: env.credentials });
  try {
    await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

/** The sizes of the objects under `folder` (after the options' prefix) added up, as the SDK lists them: what a Quire count must match. */
export async function objectBytes(options: S3LogOptions, folder: string): Promise<number> {
  const env = await rgw();
  const client = new S3Client({ endpoint: env.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: env.credentials });
  let bytes = 0;
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: `${options.prefix ?? ''}${folder}`, ...(token ? { ContinuationToken: token } : {}) }));
      for (const object of page.Contents ?? []) bytes += object.Size ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return bytes;
}

export function randomPrefix(): string {
  return `t-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/`;
}

async function setUp(): Promise<RgwEnv> {
  if (!process.env.QUIRE_S3_ENDPOINT) startRgw();
  const { QUIRE_S3_ENDPOINT: endpoint, QUIRE_S3_ACCESS_KEY: accessKeyId, QUIRE_S3_SECRET_KEY: secretAccessKey } = process.env;
  if (!endpoint || !accessKeyId || !secretAccessKey) throw new Error(`QUIRE_S3_ENDPOINT is set but QUIRE_S3_ACCESS_KEY or QUIRE_S3_SECRET_KEY is not — ${HOW_TO_START}`);
  const env = { endpoint, credentials: { accessKeyId, secretAccessKey } };
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: env.credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: TEST_BUCKET })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    // The first PUT on a new cluster takes seconds (RGW makes its data pool).
    await client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: 'warm-up', Body: 'x' }));
  } catch (error) {
    throw new Error(`RGW at ${endpoint} did not take the test bucket (${String(error)}) — ${HOW_TO_START}`, { cause: error });
  } finally {
    client.destroy();
  }
  return env;
}

const HOW_TO_START =
  'the S3 suites need a real S3 server: run `set -a; eval "$(scripts/s3-server.sh start)"; set +a` in the repository root (root is needed the first time, to install Ceph RGW), then run the tests again in that shell; see docs/S3_TESTING.md';

function startRgw(): void {
  const lock = `${process.env.QUIRE_CEPH_DIR ?? '/tmp/quire-ceph'}.lock`;
  process.stderr.write('S3 suites: QUIRE_S3_ENDPOINT is unset, starting RGW with scripts/s3-server.sh (it stays running; `scripts/s3-server.sh stop` stops it)\n');
  let out: string;
  try {
    // flock: test files in parallel workers must not create the cluster twice.
    out = execFileSync('flock', [lock, SCRIPT, 'start'], { encoding: 'utf8', timeout: RGW_SETUP_TIMEOUT_MS - 20_000, stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    throw new Error(`could not start RGW (${String(error)}) — ${HOW_TO_START}`, { cause: error });
  }
  for (const line of out.split('\n')) {
    const match = /^(QUIRE_S3_[A-Z_]+)=(.*)$/.exec(line);
    if (match) process.env[match[1]!] = match[2]!;
  }
}
