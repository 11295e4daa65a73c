import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createClient } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';
import { SimNetwork } from './sim-network.js';

/**
 * Delivers what is in flight, one chunk per turn of the event loop, until
 * `done()` holds; the server and clients also wait on files and timers, so
 * an empty network is not the end. Fails after 10 s.
 */
async function deliverUntil(network: SimNetwork, done: () => boolean, what: string): Promise<number> {
  let delivered = 0;
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    const busy = network.busy();
    if (busy.length > 0) {
      const { link, direction } = busy[0]!;
      link.deliver(direction);
      delivered++;
    }
    await new Promise((resolve) => setTimeout(resolve, busy.length > 0 ? 0 : 2));
  }
  return delivered;
}

test('real clients and a real server talk through the in-memory network, and nothing moves until it is delivered', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-sim-'));
  const server = createSyncServer({ reducers: todoReducers, dataDir });
  const network = new SimNetwork();
  server.attach(network.httpServer);
  const open = () => createClient<TodoReducers>({ url: 'ws://sim/', docId: 'doc', reducers: todoReducers, WebSocket: network.WebSocket, reconnect: { minDelayMs: 1, maxDelayMs: 5 } });
  const a = open();
  const b = open();
  try {
    // Clients start connecting once their engine is ready; then nothing moves until delivered.
    await waitFor(() => a.status().connection === 'connecting' && b.status().connection === 'connecting', 'both clients to start connecting');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a.status().connection).toBe('connecting');
    const moved = await deliverUntil(network, () => a.status().connection === 'connected' && b.status().connection === 'connected', 'both clients to connect');
    expect(moved).toBeGreaterThan(0);

    const add = a.mutate.init();
    await add.local;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Applied locally, but the push is still in the network.
    expect(a.status().pending).toBe(1);
    await deliverUntil(network, () => a.status().pending === 0 && b.status().lsn === a.status().lsn && a.status().lsn > 0, 'the mutation to reach both');
    await add.server;

    // A cut mid-flight: the client reconnects and the mutation still applies once.
    a.mutate.addTodo({ id: 't1', title: 'through a cut' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    network.busy()[0]?.link.cut();
    await deliverUntil(
      network,
      () => a.status().connection === 'connected' && a.status().pending === 0 && b.status().lsn === a.status().lsn,
      'a to reconnect and its mutation to reach b',
    );
    expect(await b.query('SELECT title FROM todos')).toEqual([{ title: 'through a cut' }]);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
