// Several server nodes over one bucket on a real S3 server (Ceph RGW): leases and relays.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '../../src/sync-server.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { silentLogger } from '../memory-logger.js';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from './rgw.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY)'),
  add: (tx, { id }: { id: string }) => tx.exec('INSERT INTO notes (id) VALUES (?)', [id]),
});

const cleanup: Array<() => Promise<void> | void> = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function node(nodeId: string, s3: S3LogOptions): Promise<{ server: SyncServer<typeof reducers>; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `quire-cluster-${nodeId}-`));
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger, s3, cluster: { nodeId, leaseTtlMs: 2000 } });
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.push(() => server.close());
  const { url } = await server.listen(0);
  return { server, url };
}

function client(url: string): QuireClient<typeof reducers> {
  const c = createClient({ url, docId: 'doc', reducers, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  cleanup.push(() => c.close());
  return c;
}

test('a client of a node that does not coordinate the document is relayed to the one that does', async () => {
  const s3 = await rgwOptions();
  const a = await node('a', s3);
  const b = await node('b', s3);
  const alice = client(a.url);
  await alice.mutate.init().server;
  const bob = client(b.url);
  const fromBob = await bob.mutate.add({ id: 'from-bob' }).server;
  const fromAlice = await alice.mutate.add({ id: 'from-alice' }).server;
  expect(fromAlice.lsn).toBe(fromBob.lsn + 1);
  // One coordinator: node a opened the document, node b only relays.
  expect(a.server.health().documents).toBe(1);
  expect(b.server.health().documents).toBe(0);
  // Bob hears of Alice's commit through the relay.
  await expect.poll(() => bob.status().lsn, { timeout: 10_000 }).toBeGreaterThanOrEqual(fromAlice.lsn);
  const rows = [{ id: 'from-alice' }, { id: 'from-bob' }];
  expect(await bob.query('SELECT id FROM notes ORDER BY id')).toEqual(rows);
  expect(await alice.query('SELECT id FROM notes ORDER BY id')).toEqual(rows);
  // Server-side calls on the other node are refused with where to go.
  await expect(b.server.mutate('doc', 'add', { id: 'x' })).rejects.toMatchObject({ code: 'document_moved', message: expect.stringContaining(a.url) });
});

test('a client id stays bound to its first user when the document moves to another node', async () => {
  const s3 = await rgwOptions();
  const authorize = ({ request }: { request: import('node:http').IncomingMessage }) => {
    const user = new URL(request.url ?? '/', 'http://x').searchParams.get('user');
    return user ? { userId: user } : null;
  };
  const start = async (nodeId: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), `quire-cluster-${nodeId}-`));
    const server = createSyncServer({ reducers, dataDir, logger: silentLogger, s3, authorize, cluster: { nodeId, leaseTtlMs: 2000 } });
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanup.push(() => server.close());
    return { server, url: (await server.listen(0)).url };
  };
  const a = await start('a');
  const alice = createClient({ url: a.url, docId: 'doc', reducers, clientId: 'shared-id', params: { user: 'alice' }, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  await alice.mutate.init().server;
  await alice.close();
  // Node a closes and hands the document over; node b has never seen this client id.
  await a.server.close();
  const b = await start('b');
  const mallory = createClient({ url: b.url, docId: 'doc', reducers, clientId: 'shared-id', params: { user: 'mallory' }, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  cleanup.push(() => mallory.close());
  await expect.poll(() => mallory.status().lastError?.code, { timeout: 10_000 }).toBe('client_id_taken');
  expect(mallory.status().connection).toBe('unauthorized');
  // Alice keeps her id on the new node.
  const again = createClient({ url: b.url, docId: 'doc', reducers, clientId: 'shared-id', params: { user: 'alice' }, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  cleanup.push(() => again.close());
  await again.mutate.add({ id: 'still-alice' }).server;
});
