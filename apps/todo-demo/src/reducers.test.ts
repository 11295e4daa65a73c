import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient, MutationRejectedError, type QuireClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '@quire/server';
import { reducers, type TodoReducers } from './reducers.js';
import { HAS_TODOS_SQL } from './todo-schema.js';
import { waitUntil } from './test-support/wait-until.js';

type Row = { id: string; title: string; completed: number; position: number };
const ROWS = 'SELECT id, title, completed, position FROM todos ORDER BY position, id';

let dataDir: string;
let server: SyncServer<TodoReducers>;
let url: string;
const clients: QuireClient<TodoReducers>[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'todo-demo-reducers-'));
  server = createSyncServer({ reducers, dataDir });
  ({ url } = await server.listen(0, '127.0.0.1'));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function open(docId: string, options: { offline?: boolean } = {}): QuireClient<TodoReducers> {
  const client = createClient({ url, docId, reducers, reconnect: { minDelayMs: 10, maxDelayMs: 100 }, ...options });
  clients.push(client);
  // Like the app: no init call; the first todo creates the table.
  return client;
}

/** Waits until the client has nothing pending and its base is the server's latest. */
async function settled(client: QuireClient<TodoReducers>): Promise<void> {
  await waitUntil(async () => {
    const { lsn } = await server.snapshot(client.docId);
    const status = client.status();
    return status.connection === 'connected' && status.pending === 0 && status.lsn === lsn;
  }, `${client.clientId} to settle`);
}

test('todos added at the same time end in one order everywhere, each at its own position', async () => {
  const alice = open('concurrent-adds', { offline: true });
  const bob = open('concurrent-adds', { offline: true });
  for (const n of [1, 2, 3]) {
    alice.mutate.addTodo({ id: `a${n}`, title: `alice ${n}` });
    bob.mutate.addTodo({ id: `b${n}`, title: `bob ${n}` });
  }
  // Offline, each sees only its own todos, at the same positions 1..3.
  expect((await alice.query<Row>(ROWS)).map((r) => r.position)).toEqual([1, 2, 3]);
  expect((await bob.query<Row>(ROWS)).map((r) => r.position)).toEqual([1, 2, 3]);

  alice.connect();
  bob.connect();
  await settled(alice);
  await settled(bob);
  const seenByAlice = await alice.query<Row>(ROWS);
  const seenByBob = await bob.query<Row>(ROWS);
  expect(seenByBob).toEqual(seenByAlice);
  expect(seenByAlice.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6]);
  // Whoever the server took first, each person's own todos keep their order.
  const ids = seenByAlice.map((r) => r.id);
  expect(ids.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
  expect(ids.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2', 'b3']);
});

test('toggleAll sets every todo, clearCompleted removes only completed ones', async () => {
  const client = open('toggle-all');
  for (const n of [1, 2, 3]) client.mutate.addTodo({ id: `t${n}`, title: `todo ${n}` });
  client.mutate.toggleTodo({ id: 't2', completed: true });
  client.mutate.toggleAll({ completed: true });
  expect((await client.query<Row>(ROWS)).map((r) => r.completed)).toEqual([1, 1, 1]);
  client.mutate.toggleAll({ completed: false });
  expect((await client.query<Row>(ROWS)).map((r) => r.completed)).toEqual([0, 0, 0]);

  client.mutate.toggleTodo({ id: 't1', completed: true });
  client.mutate.toggleTodo({ id: 't3', completed: true });
  await client.mutate.clearCompleted().server;
  await settled(client);
  const other = open('toggle-all');
  await settled(other);
  for (const c of [client, other]) {
    expect(await c.query<Row>(ROWS)).toEqual([{ id: 't2', title: 'todo 2', completed: 0, position: 2 }]);
  }
});

test('two people completing the same todo at once leave it completed', async () => {
  const alice = open('same-toggle', { offline: true });
  alice.mutate.addTodo({ id: 'x', title: 'shared' });
  alice.connect();
  await settled(alice);
  const bob = open('same-toggle');
  await settled(bob);
  alice.disconnect();
  bob.disconnect();
  alice.mutate.toggleTodo({ id: 'x', completed: true });
  bob.mutate.toggleTodo({ id: 'x', completed: true });
  alice.connect();
  bob.connect();
  await settled(alice);
  await settled(bob);
  expect(await alice.query<Row>(ROWS)).toEqual([{ id: 'x', title: 'shared', completed: 1, position: 1 }]);
  expect(await bob.query<Row>(ROWS)).toEqual(await alice.query<Row>(ROWS));
});

test('titles are trimmed, an edit to blank deletes, and a blank new todo is refused', async () => {
  const client = open('edits');
  client.mutate.addTodo({ id: 'e1', title: '  buy milk  ' });
  client.mutate.addTodo({ id: 'e2', title: 'walk dog' });
  client.mutate.editTodo({ id: 'e1', title: '  buy oat milk ' });
  client.mutate.editTodo({ id: 'e2', title: '   ' });
  const blank = client.mutate.addTodo({ id: 'e3', title: ' \t ' });
  await expect(blank.local).rejects.toThrow(/needs a title/);
  await expect(blank.server).rejects.toBeInstanceOf(MutationRejectedError);
  await settled(client);
  expect(await client.query<Row>(ROWS)).toEqual([{ id: 'e1', title: 'buy oat milk', completed: 0, position: 1 }]);
  client.mutate.deleteTodo({ id: 'e1' });
  await settled(client);
  expect(await client.query<Row>(ROWS)).toEqual([]);
});

test('a list nobody wrote to has no table and no commit; the first todo creates the table everywhere', async () => {
  const looker = open('untouched');
  await settled(looker);
  expect(looker.status().lsn).toBe(0);
  expect(await looker.query(HAS_TODOS_SQL)).toEqual([{ n: 0 }]);
  expect((await server.snapshot('untouched')).lsn).toBe(0);

  const writer = open('untouched', { offline: true });
  writer.mutate.addTodo({ id: 'first', title: 'first' });
  expect(await writer.query(HAS_TODOS_SQL)).toEqual([{ n: 1 }]);
  writer.connect();
  await settled(writer);
  await waitUntil(() => looker.status().lsn === 1, 'the looker to get the first commit');
  expect(await looker.query<Row>(ROWS)).toEqual([{ id: 'first', title: 'first', completed: 0, position: 1 }]);
});
