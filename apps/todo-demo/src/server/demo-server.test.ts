import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient, QuireError } from '@quire/core';
import { reducers } from '../reducers.js';
import { waitUntil } from '../test-support/wait-until.js';
import { type DemoServer, startDemoServer } from './demo-server.js';

let root: string;
let server: DemoServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'todo-demo-server-'));
  mkdirSync(join(root, 'public', 'assets'), { recursive: true });
  writeFileSync(join(root, 'public', 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(root, 'public', 'assets', 'app-1234.js'), 'console.log(1)');
  server = await startDemoServer({ staticDir: join(root, 'public'), dataDir: join(root, 'data'), port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const get = (path: string) => fetch(new URL(path, server.url));

test('prints its address as http://127.0.0.1:<port>/', () => {
  expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  expect(server.port).toBeGreaterThan(0);
});

test('serves the app, with index.html for client-side paths and 404 for missing files', async () => {
  for (const path of ['/', '/?list=abc', '/l/abc']) {
    const res = await get(path);
    expect(res.status, path).toBe(200);
    expect(await res.text()).toContain('<title>app</title>');
    expect(res.headers.get('cache-control')).toBe('no-cache');
  }
  const asset = await get('/assets/app-1234.js');
  expect(asset.status).toBe(200);
  expect(asset.headers.get('content-type')).toMatch(/javascript/);
  expect(asset.headers.get('cache-control')).toMatch(/immutable/);
  expect((await get('/assets/missing.js')).status).toBe(404);
  expect((await get('/sync')).status).toBe(426);
});

test('answers /healthz with the sync server health', async () => {
  const res = await get('/healthz');
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true, documents: expect.any(Number), connections: expect.any(Number) });
});

test('answers /metrics with the sync server metrics, which count the mutations it applied', async () => {
  const applied = async () => Number((await (await get('/metrics')).text()).match(/^quire_mutations_applied_total (\d+)$/m)?.[1]);
  const before = await applied();
  const client = createClient({ url: server.url.replace(/^http/, 'ws') + 'sync', docId: 'metrics-list', reducers });
  try {
    client.mutate.init();
    await client.mutate.addTodo({ id: 'm1', title: 'counted' }).server;
  } finally {
    await client.close();
  }
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await applied()).toBe(before + 2);
});

test('syncs lists over /sync on the same port', async () => {
  const url = server.url.replace(/^http/, 'ws') + 'sync';
  const alice = createClient({ url, docId: 'shared-list', reducers });
  const bob = createClient({ url, docId: 'shared-list', reducers });
  try {
    alice.mutate.init();
    bob.mutate.init();
    await alice.mutate.addTodo({ id: 'one', title: 'from alice' }).server;
    await waitUntil(async () => (await bob.query('SELECT title FROM todos')).length === 1, 'bob to see the todo');
    expect(await bob.query('SELECT title FROM todos')).toEqual([{ title: 'from alice' }]);
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
});

test('refuses to start without a built app, saying how to build it', async () => {
  const missing = startDemoServer({ staticDir: join(root, 'nothing'), dataDir: join(root, 'data2'), port: 0 });
  await expect(missing).rejects.toBeInstanceOf(QuireError);
  await expect(missing).rejects.toThrow(/pnpm -C apps\/todo-demo build/);
});
