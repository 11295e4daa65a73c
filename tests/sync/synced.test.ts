import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createClient, type SyncStatus } from '@quire/core';
import { type Harness, startHarness } from '../helpers/sync-harness.js';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';

let h: Harness<TodoReducers>;
beforeEach(async () => {
  h = await startHarness(todoReducers);
  const writer = h.client({ docId: 'list' });
  await writer.mutate.init().server;
  for (let i = 0; i < 20; i++) writer.mutate.addTodo({ id: `t${i}`, title: `item ${i}` });
  await writer.mutate.addTodo({ id: 'last', title: 'last' }).server;
});
afterEach(() => h.close());

describe('client.synced()', () => {
  test("resolves once the client holds the server's state: ready() alone does not", async () => {
    const { lsn } = await h.server.snapshot('list');
    const client = h.client({ docId: 'list' });
    await client.ready();
    // Open, but nothing from the server yet: the newcomer's empty first query.
    await expect(client.query('SELECT count(*) AS n FROM todos')).rejects.toThrow(/no such table/);
    await client.synced();
    expect(client.status()).toMatchObject({ connection: 'connected', pending: 0 });
    expect(client.status().lsn).toBeGreaterThanOrEqual(lsn);
    expect(await client.query('SELECT count(*) AS n FROM todos')).toEqual([{ n: 21 }]);
  });

  test('waits for mutations made offline to be confirmed, and resolves at once when already synced', async () => {
    const client = h.client({ docId: 'list', partial: true, offline: true });
    client.mutate.addTodo({ id: 'offline', title: 'made offline' });
    let synced = false;
    const wait = client.synced().then(() => (synced = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(synced).toBe(false);
    client.connect();
    await wait;
    expect(client.status().pending).toBe(0);
    const server = await h.server.snapshot('list');
    expect(client.status().lsn).toBe(server.lsn);
    expect(await client.query('SELECT title FROM todos WHERE id = ?', ['offline'])).toEqual([{ title: 'made offline' }]);
    await client.synced();
  });

  test('rejects when the client is closed first', async () => {
    const client = h.client({ docId: 'list', offline: true });
    const wait = client.synced();
    await client.close();
    await expect(wait).rejects.toMatchObject({ code: 'client_closed' });
  });
});

describe('a server that cannot be reached', () => {
  test("says server_unreachable and 'connection refused', with the address, and keeps retrying", async () => {
    // The discard port: nobody serves it here. (A port freed a moment ago
    // can be taken by another process's server before the client tries it.)
    const port = 9;
    const client = createClient({ url: `ws://127.0.0.1:${port}`, docId: 'list', reducers: todoReducers, params: { token: 'secret' }, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
    try {
      // The status as the failure set it: polling could see the next attempt's 'connecting' (10 ms later).
      const failed = new Promise<SyncStatus>((resolve) => {
        const stop = client.subscribeStatus((status) => {
          if (status.lastError === undefined) return;
          stop();
          resolve(status);
        });
      });
      const { connection, lastError } = await failed;
      expect(connection).toBe('offline');
      expect(lastError?.code).toBe('server_unreachable');
      expect(lastError?.message).toBe(`could not connect to ws://127.0.0.1:${port}/: connection refused — is the server running at that address? Retrying.`);
      // The token in the URL's query is not repeated in messages.
      expect(lastError?.message).not.toContain('secret');
    } finally {
      await client.close();
    }
  });
});
