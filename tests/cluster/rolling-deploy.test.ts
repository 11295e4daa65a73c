// A rolling deploy on a real S3 server (Ceph RGW): a v1 node and a v2 node
// on one bucket with --cluster. The document is coordinated by the v1 node
// while v2 clients arrive (they wait, keeping their calls); then the v1 node
// is retired, the v2 node takes the document over and migrates it, and every
// client of either version carries on. No call is lost: each ends applied
// exactly once or refused with a code the app can show.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MutationRejectedError, createClient, type QuireClient } from '@quire/core';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from '../../packages/server/test/s3/rgw.js';
import { Balancer } from '../helpers/balancer.js';
import { s3ServeOptions } from '../helpers/s3-serve.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { todoAppV1, todoAppV2 } from '../helpers/migrating-todo-app.js';
import { waitFor } from '../helpers/wait-for.js';

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers');
const DOC = 'rolling';
const dirs: string[] = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(async () => {
  await killAllServerProcesses();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Outcome = 'pending' | 'applied' | `refused: ${string}` | `failed: ${string}`;

test('a v1 node and a v2 node on one bucket through a rolling deploy: no client of either version loses a call', async () => {
  const s3 = await rgwOptions();
  const serve = await s3ServeOptions(s3);
  const start = async (version: 1 | 2): Promise<ServerProcess> => {
    const dataDir = mkdtempSync(join(tmpdir(), `quire-rolling-v${version}-`));
    dirs.push(dataDir);
    return startServerProcess({
      reducers: join(HELPERS, `migrating-todo-v${version}.ts`),
      dataDir,
      args: [...serve.args, '--cluster', '--lease-ttl-ms', '3000', '--log-level', 'info'],
      env: serve.env,
    });
  };
  const nodes: { v1: ServerProcess; v2?: ServerProcess } = { v1: await start(1) };
  // Each version's clients reach the deployment through a balancer of their own.
  const routes: { v1: number[]; v2: number[] } = { v1: [nodes.v1.port], v2: [nodes.v1.port] };
  const balancers = { v1: await Balancer.start(() => routes.v1), v2: await Balancer.start(() => routes.v2) };
  const reconnect = { minDelayMs: 20, maxDelayMs: 300 };
  const old: QuireClient<typeof todoAppV1>[] = [0, 1].map((i) => createClient({ url: balancers.v1.url, docId: DOC, reducers: todoAppV1, clientId: `old${i}`, reconnect }));
  const outcomes = new Map<string, Outcome>();
  const track = (id: string, call: { server: Promise<{ lsn: number }> }) => {
    outcomes.set(id, 'pending');
    call.server.then(
      () => outcomes.set(id, 'applied'),
      (error: unknown) => outcomes.set(id, error instanceof MutationRejectedError ? `refused: ${error.code}` : `failed: ${String(error)}`),
    );
  };
  const dump = () => Object.entries(nodes).map(([name, n]) => `--- node ${name}\n${n!.output().slice(-4000)}`).join('\n');
  let fresh: QuireClient<typeof todoAppV2>[] = [];
  try {
    // v1 alone: the document is created and coordinated by the v1 node.
    for (const [i, c] of old.entries()) track(`old${i}-0`, c.mutate.note({ id: `old${i}-0`, author: c.clientId }));
    await waitFor(() => [...outcomes.values()].every((o) => o !== 'pending'), 'the first notes');

    // The v2 node joins; v2 clients arrive while the v1 node still holds the document.
    nodes.v2 = await start(2);
    routes.v2 = [nodes.v2.port];
    fresh = [0, 1].map((i) => createClient({ url: balancers.v2.url, docId: DOC, reducers: todoAppV2, clientId: `new${i}`, reconnect }));
    for (const [i, c] of fresh.entries()) track(`new${i}-0`, c.mutate.note({ id: `new${i}-0`, author: c.clientId }));
    await waitFor(() => fresh.every((c) => c.status().connection === 'waiting_for_server'), 'v2 clients to wait for a v2 coordinator');
    // The old clients keep writing meanwhile.
    for (const [i, c] of old.entries()) track(`old${i}-1`, c.mutate.note({ id: `old${i}-1`, author: c.clientId }));
    await waitFor(() => outcomes.get('old0-1') === 'applied' && outcomes.get('old1-1') === 'applied', 'v1 writes while v2 clients wait');
    expect(outcomes.get('new0-0')).toBe('pending');

    // The old clients go offline and make calls during the deploy: one whose
    // reducer v2 still has, one whose reducer v2 dropped.
    for (const [i, c] of old.entries()) {
      c.disconnect();
      track(`old${i}-2`, c.mutate.note({ id: `old${i}-2`, author: c.clientId }));
      track(`old${i}-gone`, c.mutate.setTitle({ id: 'none', title: 'x' }));
    }
    // Retire the v1 node (SIGTERM: it drains and gives up its lease); everyone now reaches v2.
    await nodes.v1.kill('SIGTERM');
    routes.v1 = [nodes.v2.port];
    for (const c of old) c.connect();

    await waitFor(() => [...outcomes.values()].every((o) => o !== 'pending'), `every call to end (${JSON.stringify([...outcomes])})`, 60_000);
    await waitFor(() => fresh.every((c) => c.status().connection === 'connected'), 'v2 clients connected');
    await waitFor(() => old.every((c) => c.status().connection === 'update_required'), 'v1 clients told to update');

    const expected: Record<string, Outcome> = {};
    for (const i of [0, 1]) {
      expected[`old${i}-0`] = 'applied';
      expected[`old${i}-1`] = 'applied';
      expected[`old${i}-2`] = 'applied';
      expected[`old${i}-gone`] = 'refused: update_required';
      expected[`new${i}-0`] = 'applied';
    }
    expect(Object.fromEntries(outcomes)).toEqual(expected);

    // Every client of either version converges on the same notes, each applied call once.
    const all = [...old, ...fresh];
    const lsn = Math.max(...all.map((c) => c.status().lsn));
    await waitFor(() => all.every((c) => c.status().lsn === lsn && c.status().pending === 0), 'every client to converge');
    const views = await Promise.all(all.map((c) => c.query<{ id: string }>('SELECT id FROM notes ORDER BY id')));
    for (const view of views) expect(view.map((r) => r.id)).toEqual(Object.keys(expected).filter((id) => expected[id] === 'applied').sort());
    // The v2 node migrated the document once: the old clients' replicas have the new column.
    const schema = await old[0]!.query<{ version: number }>('SELECT version FROM __quire_schema ORDER BY version');
    expect(schema.map((r) => r.version)).toEqual([1, 2]);
    expect(await old[0]!.query('SELECT priority FROM todos')).toEqual([]);
  } catch (error) {
    console.log(dump());
    throw error;
  } finally {
    await Promise.all([...old, ...fresh].map((c) => c.close()));
    await Promise.all(Object.values(balancers).map((b) => b.close()));
  }
}, 180_000);
