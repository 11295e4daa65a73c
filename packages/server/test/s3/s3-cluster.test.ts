// Several server nodes over one bucket on a real S3 server (Ceph RGW): leases and relays.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { type Authorize, createSyncServer, type SyncServer } from '../../src/sync-server.js';
import { ObjectKeys } from '../../src/log/s3/object-keys.js';
import type { S3LogOptions } from '../../src/log/s3/s3-log-options.js';
import { S3Store } from '../../src/log/s3/s3-store.js';
import { type LogLine, memoryLogger } from '../memory-logger.js';
import { RGW_SETUP_TIMEOUT_MS, overwrite, rgw, rgwOptions } from './rgw.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY)'),
  add: (tx, { id }: { id: string }) => tx.exec('INSERT INTO notes (id) VALUES (?)', [id]),
});

const cleanup: Array<() => Promise<void> | void> = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Node {
  server: SyncServer<typeof reducers>;
  url: string;
  /** What the node logged. */
  lines: LogLine[];
}

async function node(nodeId: string, s3: S3LogOptions, options: { leaseTtlMs?: number; authorize?: Authorize } = {}): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), `quire-cluster-${nodeId}-`));
  const { logger, lines } = memoryLogger();
  const authorize = options.authorize;
  const server = createSyncServer({ reducers, dataDir, logger, s3, ...(authorize && { authorize }), cluster: { nodeId, leaseTtlMs: options.leaseTtlMs ?? 2000 } });
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.push(() => server.close());
  const { url } = await server.listen(0);
  return { server, url, lines };
}

function client(url: string, clientId?: string): QuireClient<typeof reducers> {
  const c = createClient({ url, docId: 'doc', reducers, reconnect: { minDelayMs: 10, maxDelayMs: 100 }, ...(clientId && { clientId }) });
  cleanup.push(() => c.close());
  return c;
}

/** Every error code a client's status showed, in order. */
function errorsOf(c: QuireClient<typeof reducers>): string[] {
  const codes: string[] = [];
  const stop = c.subscribeStatus((status) => {
    const code = status.lastError?.code;
    if (code && codes.at(-1) !== code) codes.push(code);
  });
  cleanup.push(stop);
  return codes;
}

/** Keeps `clients` writing until the returned stop is called; it resolves with the ids confirmed. */
function keepWriting(clients: Array<QuireClient<typeof reducers>>): () => Promise<Set<string>> {
  const confirmed = new Set<string>();
  const failures: unknown[] = [];
  let writing = true;
  const loops = clients.map(async (c, i) => {
    for (let n = 1; writing; n++) {
      const id = `w${i}-${n}`;
      c.mutate.add({ id }).server.then(
        () => confirmed.add(id),
        (error: unknown) => failures.push(error),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return async () => {
    writing = false;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.synced()));
    expect(failures).toEqual([]);
    return confirmed;
  };
}

/** Every client shows the same notes, and each of `confirmed` is among them. */
async function expectConverged(clients: Array<QuireClient<typeof reducers>>, confirmed: Set<string>): Promise<void> {
  const lsn = Math.max(...clients.map((c) => c.status().lsn));
  await expect.poll(() => clients.map((c) => c.status().lsn), { timeout: 10_000 }).toEqual(clients.map(() => lsn));
  const views = await Promise.all(clients.map((c) => c.query<{ id: string }>('SELECT id FROM notes ORDER BY id')));
  for (const view of views.slice(1)) expect(view).toEqual(views[0]);
  const present = new Set(views[0]!.map((r) => r.id));
  expect([...confirmed].filter((id) => !present.has(id))).toEqual([]);
}

const leaseKey = (s3: S3LogOptions) => new ObjectKeys(s3.prefix ?? '', 'doc').lease;

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
  const authorize: Authorize = ({ request }) => {
    const user = new URL(request.url ?? '/', 'http://x').searchParams.get('user');
    return user ? { userId: user } : null;
  };
  const a = await node('a', s3, { authorize });
  const alice = createClient({ url: a.url, docId: 'doc', reducers, clientId: 'shared-id', params: { user: 'alice' }, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  await alice.mutate.init().server;
  await alice.close();
  // Node a closes and hands the document over; node b has never seen this client id.
  await a.server.close();
  const b = await node('b', s3, { authorize });
  const mallory = createClient({ url: b.url, docId: 'doc', reducers, clientId: 'shared-id', params: { user: 'mallory' }, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  cleanup.push(() => mallory.close());
  await expect.poll(() => mallory.status().lastError?.code, { timeout: 10_000 }).toBe('client_id_taken');
  expect(mallory.status().connection).toBe('unauthorized');
  // Alice keeps her id on the new node.
  const again = createClient({ url: b.url, docId: 'doc', reducers, clientId: 'shared-id', params: { user: 'alice' }, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  cleanup.push(() => again.close());
  await again.mutate.add({ id: 'still-alice' }).server;
});

test('a node whose lease another node took over steps down at its next renewal; its clients end up served by that node, and nothing confirmed is lost', async () => {
  const s3 = await rgwOptions();
  const a = await node('a', s3);
  const b = await node('b', s3);
  const alice = client(a.url, 'alice');
  await alice.mutate.init().server;
  const bob = client(b.url, 'bob');
  const aliceErrors = errorsOf(alice);
  await bob.mutate.add({ id: 'before' }).server;
  expect(a.server.health().documents).toBe(1);
  const stop = keepWriting([alice, bob]);
  await new Promise((r) => setTimeout(r, 300));

  // As if node b had taken the lease over (say a was paused past its TTL).
  const takenAt = Date.now();
  const lease = { format: 'quire-lease-1', nodeId: 'b', address: b.url, epoch: 7, ttlMs: 2000, released: false, nonce: 'taken-over' };
  await overwrite(s3, leaseKey(s3), new TextEncoder().encode(JSON.stringify(lease)));

  // a renews every TTL/4: it finds the lease gone, steps down, and b opens the document for the clients.
  await expect.poll(() => [a.server.health().documents, b.server.health().documents], { timeout: 10_000 }).toEqual([0, 1]);
  const movedMs = Date.now() - takenAt;
  expect(a.lines.some((l) => l.msg.includes('lost the document lease'))).toBe(true);
  expect(aliceErrors).toContain('document_moved');
  // Writing goes on through b.
  const confirmedBefore = (await b.server.snapshot('doc')).lsn;
  await expect.poll(async () => (await b.server.snapshot('doc')).lsn, { timeout: 10_000 }).toBeGreaterThan(confirmedBefore + 5);
  const confirmed = await stop();
  confirmed.add('before');
  await expectConverged([alice, bob], confirmed);
  expect(a.server.health().documents).toBe(0);
  console.log(`lease taken over: node a stepped down and b serves the document ${movedMs} ms after the lease object changed (TTL 2000 ms, renewal every 500 ms); ${confirmed.size} calls confirmed`);
});

test('server.close() on the coordinating node hands its lease back: another node takes the document at once, not after the TTL', async () => {
  // An hour: had the lease not been handed back, b would wait that long, far past the test's timeout.
  // (A bound on how long the handover took would be a timing assertion a busy machine can fail.)
  const TTL = 3_600_000;
  const s3 = await rgwOptions();
  const a = await node('a', s3, { leaseTtlMs: TTL });
  const b = await node('b', s3, { leaseTtlMs: TTL });
  const alice = client(a.url, 'alice');
  await alice.mutate.init().server;
  const bob = client(b.url, 'bob');
  await bob.mutate.add({ id: 'before' }).server;
  expect([a.server.health().documents, b.server.health().documents]).toEqual([1, 0]);

  const closing = Date.now();
  await a.server.close();
  // Bob was relayed to a: he reconnects through b, which now finds the lease handed back.
  await bob.mutate.add({ id: 'after' }).server;
  const handoverMs = Date.now() - closing;
  expect(b.server.health().documents).toBe(1);
  expect(await bob.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 'after' }, { id: 'before' }]);
  console.log(`clean handover: ${handoverMs} ms from server.close() on the coordinating node to the next confirmed call through the other (TTL ${TTL} ms)`);
});

test('a foreign object at the lease key: clients get lease_corrupt, and nothing is written', async () => {
  const s3 = await rgwOptions();
  await overwrite(s3, leaseKey(s3), new TextEncoder().encode('{"owner":"some other program"}'));
  const a = await node('a', s3);
  const alice = client(a.url, 'alice');
  void alice.mutate.init().server.catch(() => {});
  await expect.poll(() => alice.status().lastError?.code, { timeout: 10_000 }).toBe('lease_corrupt');
  expect(alice.status().lastError?.message).toMatch(/is not a Quire lease .* give Quire a prefix of its own/);
  expect(alice.status().pending).toBe(1);
  expect(a.server.health().documents).toBe(0);
  // Nothing but the foreign object under the prefix.
  const store = new S3Store(s3);
  cleanup.push(() => store.close());
  const keys: string[] = [];
  for await (const key of store.list(s3.prefix!)) keys.push(key);
  expect(keys).toEqual([leaseKey(s3)]);
});

for (const [what, broken, code] of [
  ['an unreachable bucket', { endpoint: 'closed-port' }, 'storage_unreachable'],
  ['wrong credentials', { credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' } }, 'storage_denied'],
  ['a missing bucket', { bucket: 'quire-no-such-bucket' }, 'storage_not_found'],
] as const) {
  test(`a cluster node with ${what}: the client's status shows ${code}, and the server keeps running`, async () => {
    let endpoint: Record<string, string> = {};
    if ('endpoint' in broken) {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      endpoint = { endpoint: `http://127.0.0.1:${(closed.address() as { port: number }).port}` };
      await new Promise((resolve) => closed.close(resolve));
    }
    const s3 = await rgwOptions({ retryForMs: 500, ...broken, ...endpoint });
    const a = await node('a', s3);
    const alice = client(a.url, 'alice');
    void alice.mutate.init().server.catch(() => {});
    await expect.poll(() => alice.status().lastError?.code, { timeout: 10_000 }).toBe(code);
    // Still serving: health checks answer, and the next client hears the same.
    const health = await fetch(`${a.url.replace(/^ws/, 'http')}/healthz`);
    expect(health.status).toBe(200);
    const bob = client(a.url, 'bob');
    await expect.poll(() => bob.status().lastError?.code, { timeout: 10_000 }).toBe(code);
    expect(alice.status().pending).toBe(1);
  });
}
