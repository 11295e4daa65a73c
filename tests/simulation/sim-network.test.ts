import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createClient } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { SimNetwork } from './sim-network.js';

/** Delivers everything in flight, in link order, until nothing moves for a few turns of the event loop. */
async function drain(network: SimNetwork, pick: (n: number) => number = () => 0): Promise<number> {
  let delivered = 0;
  for (let idle = 0; idle < 25; ) {
    const busy = network.busy();
    if (busy.length === 0) {
      // The server and clients also wait on files and timers: give them time.
      idle++;
      await new Promise((resolve) => setTimeout(resolve, 2));
      continue;
    }
    idle = 0;
    const { link, direction } = busy[pick(busy.length)]!;
    link.deliver(direction);
    delivered++;
    await new Promise((resolve) => setImmediate(resolve));
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
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a.status().connection).toBe('connecting');
    const moved = await drain(network);
    expect(moved, `links: ${network.links.length}`).toBeGreaterThan(0);
    expect(a.status().connection).toBe('connected');

    const add = a.mutate.init();
    await add.local;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Applied locally, but the push is still in the network.
    expect(a.status().pending).toBe(1);
    await drain(network);
    await add.server;
    expect(b.status().lsn).toBe(a.status().lsn);

    // A cut mid-flight: the client reconnects and the mutation still applies once.
    a.mutate.addTodo({ id: 't1', title: 'through a cut' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    network.busy()[0]?.link.cut();
    for (let i = 0; i < 50 && (a.status().pending > 0 || b.status().lsn < a.status().lsn || a.status().connection !== 'connected'); i++) {
      await drain(network);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await b.query('SELECT title FROM todos')).toEqual([{ title: 'through a cut' }]);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
