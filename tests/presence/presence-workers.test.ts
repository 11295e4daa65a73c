// Presence with documents on worker threads: the rooms live in the workers
// beside the documents' sessions, the sockets (and the liveness sweep) in the
// main thread. Worker threads run the build of @quire/server: build first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '@quire/server';
import { CutProxy } from '../helpers/cut-proxy.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

const APP_MODULE = join(dirname(fileURLToPath(import.meta.url)), '../helpers/todo-reducers.ts');

interface Me {
  name: string;
}

let server: SyncServer<TodoReducers> | undefined;
let dataDir = '';
const clients: QuireClient<TodoReducers, Me>[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

function client(url: string, docId: string, name: string): QuireClient<TodoReducers, Me> {
  const c = createClient<TodoReducers, Me>({ url, docId, clientId: name.toLowerCase(), reducers: todoReducers, presence: { name }, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

const names = (c: QuireClient<TodoReducers, Me>) => c.presence.others().map((o) => o.state.name).join(',');
const waitNames = (c: QuireClient<TodoReducers, Me>, expected: string, what: string) =>
  waitFor(() => names(c) === expected, `${what}: ${c.clientId} to see "${expected}" (sees "${names(c)}")`);

test('clients of a document on a worker see each other, not those of another document; bounds and liveness hold', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-presence-workers-'));
  server = createSyncServer({ reducers: todoReducers, dataDir, workers: { module: APP_MODULE, count: 2 }, pingIntervalMs: 250, limits: { maxPresenceBytes: 100 } });
  const { url } = await server.listen(0);
  const proxy = await CutProxy.start(url);
  try {
    const ann = client(url, 'doc-a', 'Ann');
    const bob = client(url, 'doc-a', 'Bob');
    const cid = client(url, 'doc-b', 'Cid');
    client(proxy.url, 'doc-a', 'Zed');
    await waitNames(ann, 'Bob,Zed', 'doc-a fills up');
    await waitNames(bob, 'Ann,Zed', 'doc-a fills up');
    await cid.synced();
    expect(names(cid)).toBe('');

    bob.presence.set({ name: 'x'.repeat(200) });
    await waitFor(() => bob.status().lastError?.code === 'presence_too_large', 'Bob to hear presence_too_large from the worker');
    bob.presence.set({ name: 'Bo' });
    await waitNames(ann, 'Bo,Zed', 'Bob renamed');

    // Zed's network goes silent: the main thread's sweep drops the socket, the worker's room the state.
    proxy.stall(true);
    await waitNames(ann, 'Bo', 'the silent connection is dropped');
    await ann.close();
    await waitNames(bob, '', 'Ann left');
  } finally {
    await proxy.close();
  }
});
