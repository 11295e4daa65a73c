// Presence across two `quire serve --cluster` nodes on a real S3 server (Ceph
// RGW): a client of each node on one document. The one that does not
// coordinate the document relays its client to the one that does, where the
// document's presence room is, so each client sees the other.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from '../../packages/server/test/s3/rgw.js';
import { s3ServeOptions } from '../helpers/s3-serve.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

const REDUCERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers/todo-reducers.ts');
const DOC = 'presence';
const dirs: string[] = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(async () => {
  await killAllServerProcesses();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Me {
  name: string;
  editing: string | null;
}

test('clients on different nodes see each other arrive, change and leave', async () => {
  const serve = await s3ServeOptions(await rgwOptions());
  const start = async (nodeId: string): Promise<ServerProcess> => {
    const dataDir = mkdtempSync(join(tmpdir(), `quire-presence-${nodeId}-`));
    dirs.push(dataDir);
    return startServerProcess({ reducers: REDUCERS, dataDir, args: [...serve.args, '--cluster', '--node-id', nodeId], env: serve.env });
  };
  const nodes = [await start('node1'), await start('node2')];
  const client = (node: ServerProcess, name: string) =>
    createClient<TodoReducers, Me>({ url: node.url, docId: DOC, clientId: name.toLowerCase(), reducers: todoReducers, presence: { name, editing: null }, reconnect: { minDelayMs: 20, maxDelayMs: 300 } });
  const seen = (c: QuireClient<TodoReducers, Me>) => c.presence.others().map((o) => `${o.state.name}${o.state.editing ? `@${o.state.editing}` : ''}`).join(',');
  const waitSeen = (c: QuireClient<TodoReducers, Me>, expected: string, what: string) =>
    waitFor(() => seen(c) === expected, `${what}: ${c.clientId} to see "${expected}" (sees "${seen(c)}")\n${nodes.map((n) => n.output().slice(-2000)).join('\n---\n')}`, 60_000);
  const ann = client(nodes[0]!, 'Ann');
  const bob = client(nodes[1]!, 'Bob');
  try {
    await ann.mutate.init().server;
    await waitSeen(ann, 'Bob', 'Bob arrives through the other node');
    await waitSeen(bob, 'Ann', 'Ann arrives');
    bob.presence.set({ name: 'Bob', editing: 't1' });
    await waitSeen(ann, 'Bob@t1', 'Bob edits');
    // The document is coordinated by one node only: the other relays.
    const open = await Promise.all(nodes.map(async (n) => ((await (await fetch(`http://127.0.0.1:${n.port}/healthz`)).json()) as { documents: number }).documents));
    expect(open.sort()).toEqual([0, 1]);
    await bob.close();
    await waitSeen(ann, '', 'Bob leaves');
  } finally {
    await Promise.all([ann.close(), bob.close()]);
  }
});
