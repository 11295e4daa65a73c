// The document lease on a real S3 server (Ceph RGW), whose conditional writes
// have quirks the in-memory store does not: see rgw.ts and docs/S3_TESTING.md.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DocumentLease } from '../../src/cluster/document-lease.js';
import { S3Objects } from '../../src/cluster/s3-objects.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { RGW_SETUP_TIMEOUT_MS, overwrite, rgw, rgwOptions } from './rgw.js';

const stores: S3Store[] = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(() => stores.forEach((s) => s.close()));

const TTL = 1000;

function lease(options: S3LogOptions, nodeId: string, clock: { t: number }): DocumentLease {
  const store = new S3Store(options);
  stores.push(store);
  return new DocumentLease({ objects: new S3Objects(store), key: `${options.prefix}docs/d/lease`, self: { nodeId, address: `ws://${nodeId}` }, ttlMs: TTL, now: () => clock.t });
}

test('renewals and a takeover go through If-Match with RGW’s ETags', async () => {
  const options = await rgwOptions();
  const clockA = { t: 0 };
  const clockB = { t: 0 };
  const a = lease(options, 'a', clockA);
  const b = lease(options, 'b', clockB);
  expect(await a.acquire()).toEqual({ kind: 'held', epoch: 1 });
  for (let i = 0; i < 3; i++) expect(await a.renew()).toBe(true);
  expect(await b.acquire()).toMatchObject({ kind: 'elsewhere', holder: { nodeId: 'a' } });
  clockB.t += TTL;
  expect(await b.acquire()).toEqual({ kind: 'held', epoch: 2 });
  expect(await a.renew()).toBe(false);
  expect(await a.acquire()).toMatchObject({ kind: 'elsewhere', holder: { nodeId: 'b' }, epoch: 2 });
});

test('16 nodes racing for a free lease, then for an expired one: one winner each time (RGW answers some losers 500)', async () => {
  const options = await rgwOptions();
  const clock = { t: 0 };
  const nodes = Array.from({ length: 16 }, (_, i) => lease(options, `n${i}`, clock));
  const first = await Promise.all(nodes.map((n) => n.acquire()));
  expect(first.filter((s) => s.kind === 'held')).toHaveLength(1);
  const holder = nodes.findIndex((n) => n.held);
  // Everyone else has now seen the lease; the holder stops renewing.
  clock.t += TTL;
  const others = nodes.filter((_, i) => i !== holder);
  const second = await Promise.all(others.map((n) => n.acquire()));
  const winners = second.filter((s) => s.kind === 'held');
  expect(winners).toEqual([{ kind: 'held', epoch: 2 }]);
  const winner = others.find((n) => n.held)!;
  for (const s of second) if (s.kind === 'elsewhere') expect(s.epoch).toBe(2);
  expect(await nodes[holder]!.renew()).toBe(false);
  expect(await winner.renew()).toBe(true);
});

test('a foreign object where the lease belongs is refused, not overwritten', async () => {
  const options = await rgwOptions();
  await overwrite(options, `${options.prefix}docs/d/lease`, new TextEncoder().encode('not a lease'));
  await expect(lease(options, 'a', { t: 0 }).acquire()).rejects.toMatchObject({ code: 'lease_corrupt' });
});
