// The upgrade story on real sockets: a v1 client goes offline with
// pending calls, the server is redeployed as v2 (a migration adds a column,
// one reducer's arguments change, one reducer is gone), and the client
// comes back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { MutationRejectedError, createClient, type QuireClient, type SyncStatus } from '@quire/core';
import { createSyncServer, type SyncServer } from '@quire/server';
import { serverQuery } from '../helpers/server-rows.js';
import { todoAppV1, todoAppV2 } from '../helpers/migrating-todo-app.js';
import { waitFor } from '../helpers/wait-for.js';

const DOC = 'upgrade';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve<R extends typeof todoAppV1 | typeof todoAppV2>(reducers: R, dataDir: string, port = 0): Promise<{ server: SyncServer<R>; url: string; port: number }> {
  const server = createSyncServer({ reducers, dataDir });
  const { url, port: bound } = await server.listen(port);
  return { server, url, port: bound };
}

/** What a call's two promises ended as. */
async function outcome(call: { server: Promise<{ lsn: number }> }): Promise<string> {
  try {
    await call.server;
    return 'applied';
  } catch (error) {
    return error instanceof MutationRejectedError ? `refused: ${error.code}` : `failed: ${String(error)}`;
  }
}

test('a v1 client offline across a redeploy to v2: each pending call is applied once or refused with a typed code, the replica has the new column, and the status asks for an update', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-upgrade-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const v1 = await serve(todoAppV1, dataDir);
  const client: QuireClient<typeof todoAppV1> = createClient({ url: v1.url, docId: DOC, reducers: todoAppV1, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  cleanup.push(() => client.close());
  await client.mutate.addTodo({ id: 'a', title: 'first' }).server;
  await client.mutate.addTodo({ id: 'b', title: 'second' }).server;

  client.disconnect();
  const toggled = client.mutate.toggle({ id: 'a' });
  const added = client.mutate.addTodo({ id: 'c', title: 'third' });
  const retitled = client.mutate.setTitle({ id: 'b', title: 'renamed' });
  expect(client.status().pending).toBe(3);

  await v1.server.close();
  const v2 = await serve(todoAppV2, dataDir, v1.port);
  cleanup.push(() => v2.server.close());

  const seen: SyncStatus['connection'][] = [];
  const stop = client.subscribeStatus(() => seen.push(client.status().connection));
  cleanup.push(stop);
  client.connect();

  // toggle still exists: applied once. addTodo now needs a priority: refused by
  // its schema. setTitle is gone: refused with update_required.
  expect(await outcome(toggled)).toBe('applied');
  expect(await outcome(added)).toBe('refused: invalid_args');
  expect(await outcome(retitled)).toBe('refused: update_required');
  await waitFor(() => client.status().pending === 0, 'every pending call to settle');

  const rows = await client.query<{ id: string; title: string; done: number; priority: number }>('SELECT id, title, done, priority FROM todos ORDER BY id');
  expect(rows).toEqual([
    { id: 'a', title: 'first', done: 1, priority: 0 },
    { id: 'b', title: 'second', done: 0, priority: 0 },
  ]);
  expect(client.status().connection).toBe('update_required');
  expect(seen, 'a client older than its server never shows connected').not.toContain('connected');
  expect(client.status().appVersion).toEqual({ client: 1, server: 2 });

  // The server's own view: the same rows, and the document ran both migrations once.
  const { results } = await serverQuery(v2.server, DOC, ['SELECT id, title, done, priority FROM todos ORDER BY id', 'SELECT version FROM __quire_schema ORDER BY version']);
  expect(results[0]).toEqual(rows);
  expect(results[1]).toEqual([{ version: 1 }, { version: 2 }]);

  // It keeps syncing: a v2 client's change reaches it.
  const fresh: QuireClient<typeof todoAppV2> = createClient({ url: v2.url, docId: DOC, reducers: todoAppV2 });
  cleanup.push(() => fresh.close());
  await fresh.mutate.addTodo({ id: 'd', title: 'fourth', priority: 3 }).server;
  expect(fresh.status().connection).toBe('connected');
  await waitFor(async () => (await client.query('SELECT 1 FROM todos WHERE id = ?', ['d'])).length === 1, 'the v2 commit to reach the v1 client');
});
