import { afterEach, beforeEach, expect, test } from 'vitest';
import { createClient } from '@quire/core';
import { type Harness, startHarness } from '../helpers/sync-harness.js';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

let h: Harness<TodoReducers>;
beforeEach(async () => {
  h = await startHarness(todoReducers);
});
afterEach(async () => {
  await h.close();
});

test('status tells going offline on purpose apart from losing the connection', async () => {
  const client = createClient({ url: h.url, docId: 'status', reducers: todoReducers, offline: true, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  try {
    expect(client.status()).toMatchObject({ connection: 'offline', offlineByChoice: true });
    client.connect();
    expect(client.status().offlineByChoice).toBe(false);
    await waitFor(() => client.status().connection === 'connected', 'connected');

    // The server goes away: offline, but not by choice, and the client keeps retrying.
    await h.server.close();
    await waitFor(() => client.status().connection !== 'connected', 'the drop to be noticed');
    expect(client.status().offlineByChoice).toBe(false);

    client.disconnect();
    expect(client.status()).toMatchObject({ connection: 'offline', offlineByChoice: true });
  } finally {
    await client.close();
  }
});
