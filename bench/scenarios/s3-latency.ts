import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type CommitRecord, S3CommitLog, S3Store } from '@quire/server';
import { type BenchResult, result } from '../lib/result.js';
import { BENCH_BUCKET, rgw } from '../lib/rgw.js';
import { percentile } from '../lib/setup.js';

/**
 * Sequential PUTs and GETs of a 4 KiB object on Ceph RGW (scripts/s3-server.sh)
 * with the AWS SDK, and S3CommitLog.append of one small commit (one 4 KiB
 * page), whose baseline is the PUT: what the log adds to the write it makes.
 */
export async function s3Latency(iterations: number): Promise<BenchResult[]> {
  const { endpoint, credentials } = await rgw();
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}/`;
  const store = new S3Store({ bucket: BENCH_BUCKET, prefix, endpoint, credentials, forcePathStyle: true });
  try {
    const warmUp = 20;
    const { put, get } = await putAndGetSamples(iterations);

    const log = new S3CommitLog(store, 'doc');
    await log.open();
    const append: number[] = [];
    for (let lsn = 1; lsn <= warmUp + iterations; lsn++) {
      const start = performance.now();
      await log.append([smallCommit(lsn)]);
      if (lsn > warmUp) append.push(performance.now() - start);
    }
    await log.close();

    const putP50 = percentile(put, 50);
    return [
      result('s3_put_p50_ms', putP50, 'ms'),
      result('s3_get_p50_ms', percentile(get, 50), 'ms'),
      result('s3_append_p50_ms', percentile(append, 50), 'ms', putP50),
    ];
  } finally {
    store.close();
  }
}

/** Sequential PUTs of a 4 KiB object with the AWS SDK, each followed by a GET of it, after 20 for warm-up. */
export async function putAndGetSamples(iterations: number): Promise<{ put: number[]; get: number[] }> {
  const { endpoint, credentials } = await rgw();
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}/raw/`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    const body = randomBytes(4096);
    const warmUp = 20;
    const put: number[] = [];
    const get: number[] = [];
    for (let i = 0; i < warmUp + iterations; i++) {
      const Key = `${prefix}${i}`;
      let start = performance.now();
      await client.send(new PutObjectCommand({ Bucket: BENCH_BUCKET, Key, Body: body }));
      const putMs = performance.now() - start;
      start = performance.now();
      const answer = await client.send(new GetObjectCommand({ Bucket: BENCH_BUCKET, Key }));
      await answer.Body!.transformToByteArray();
      if (i >= warmUp) (put.push(putMs), get.push(performance.now() - start));
    }
    return { put, get };
  } finally {
    client.destroy();
  }
}

function smallCommit(lsn: number): CommitRecord {
  return {
    lsn,
    pageCount: 2,
    pages: [{ pgno: 2, data: randomBytes(4096) }],
    settled: [{ clientId: 'bench-client', lastSeq: lsn }],
    rejections: [],
    volume: { salt1: 1, salt2: 2, offset: 32 + lsn * 4120 },
  };
}
