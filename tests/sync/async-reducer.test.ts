import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MutationRejectedError, QuireError, defineReducers, type QuireClient, type ReducerFn, type Tx } from '@quire/core';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Issue 11, defect 1: a newcomer's `async` reducer. Its continuation used to
// write after the batch had committed, outside any transaction, and the
// document stopped serving until the server restarted.
// It no longer compiles (see define-reducers.test-d.ts), and defineReducers
// refuses an `async` function; a plain function that returns a promise (a
// transpiled async, say) gets past both, so the runtime's refusal is tested with one.
// Runs on the caller and on the server (in this process); each run's late write is followed.
const runs = { started: 0, lateErrors: [] as unknown[] };
const asyncAddBody = async (tx: Tx, { id }: { id: string }) => {
  runs.started++;
  // Runs before the first await, inside the mutation's transaction: must be rolled back.
  tx.exec('INSERT INTO items (id) VALUES (?)', [`${id}-early`]);
  await sleep(10);
  try {
    tx.exec('INSERT INTO items (id) VALUES (?)', [id]);
    runs.lateErrors.push(undefined);
  } catch (error) {
    runs.lateErrors.push(error);
  }
};
const asyncAdd = ((tx: Tx, args: { id: string }) => asyncAddBody(tx, args)) as unknown as ReducerFn<{ id: string }>;

const reducers = defineReducers({
  init: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY)');
  },
  add: (tx, { id }: { id: string }) => {
    tx.exec('INSERT INTO items (id) VALUES (?)', [id]);
  },
  asyncAdd,
});

type Client = QuireClient<typeof reducers>;

async function settled(promise: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return promise.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

const items = (c: Client) => c.query('SELECT id FROM items ORDER BY id');

describe('an async reducer', () => {
  let h: Harness<typeof reducers>;
  beforeEach(async () => {
    h = await startHarness(reducers);
  });
  afterEach(() => h.close());

  test('is refused on the caller with async_reducer, writes nothing anywhere, and the document keeps serving', async () => {
    const [a, b] = [h.client(), h.client()];
    await a.mutate.init().server;
    await waitForSettled(b, h.server);

    const call = a.mutate.asyncAdd({ id: 'late' });
    const [local, server] = await Promise.all([settled(call.local), settled(call.server)]);
    if (local.ok) expect.fail('the local apply of an async reducer resolved');
    expect(local.error).toBeInstanceOf(QuireError);
    expect((local.error as QuireError).code).toBe('async_reducer');
    if (server.ok) expect.fail('the server applied an async reducer');
    expect(server.error).toBeInstanceOf(MutationRejectedError);
    expect((server.error as MutationRejectedError).code).toBe('async_reducer');
    expect((server.error as MutationRejectedError).message).toMatch(/must be synchronous/);

    // Every run's continuation (the server's, the caller's) tried its late write, and was refused.
    await waitFor(() => runs.started >= 2 && runs.lateErrors.length === runs.started, 'the async reducers to try their late writes');
    for (const error of runs.lateErrors) expect(error).toMatchObject({ code: 'async_reducer' });

    // Another client's ordinary mutation commits and everybody sees it.
    await b.mutate.add({ id: 'after' }).server;
    const c = h.client();
    for (const client of [a, b, c]) await waitForSettled(client, h.server);
    for (const client of [a, b, c]) {
      await expectSamePages(client, h.server);
      expect(await items(client), `client ${client.clientId}`).toEqual([{ id: 'after' }]);
    }
    const { results } = await serverQuery(h.server, 'doc', ['SELECT id FROM items ORDER BY id']);
    expect(results[0]).toEqual([{ id: 'after' }]);

    // The caller keeps working too.
    await a.mutate.add({ id: 'from-a' }).server;
    await waitForSettled(b, h.server);
    expect(await items(b)).toEqual([{ id: 'after' }, { id: 'from-a' }]);
  });
});
