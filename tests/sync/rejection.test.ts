import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MutationRejectedError, type QuireClient } from '@quire/core';
import type { SyncServer } from '@quire/server';
import { ClientPool } from '../helpers/client-pool.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

type Client = QuireClient<TodoReducers>;

/** Settles the `server` promise into a value the test can inspect. */
function outcome(promise: Promise<{ lsn: number }>): Promise<{ ok: true; lsn: number } | { ok: false; error: unknown }> {
  return promise.then(
    ({ lsn }) => ({ ok: true as const, lsn }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

type Outcome = Awaited<ReturnType<typeof outcome>>;

function expectRejected(result: Outcome, expected: { reducer: string; seq: number; message: string }): void {
  if (result.ok) expect.fail(`the server promise of ${expected.reducer} (seq ${expected.seq}) resolved at LSN ${result.lsn}, but the server rejected it`);
  expect(result.error).toBeInstanceOf(MutationRejectedError);
  const e = result.error as MutationRejectedError;
  expect(e.code).toBe('reducer_error');
  expect(e.message).toBe(expected.message);
  expect(e.reducer).toBe(expected.reducer);
  expect(e.seq).toBe(expected.seq);
}

/** Every client has nothing pending, sits at the server's LSN, and has exactly its pages. */
async function expectAllLikeServer(server: SyncServer<TodoReducers>, clients: Client[], docId = 'doc'): Promise<void> {
  for (const c of clients) await waitForSettled(c, server, docId);
  for (const c of clients) await expectSamePages(c, server, docId);
}

/** The `last_seq` the server has recorded for a client (0 if none). */
async function serverLastSeq(server: SyncServer<TodoReducers>, clientId: string, docId = 'doc'): Promise<number> {
  const { results } = await serverQuery(server, docId, [
    `SELECT last_seq FROM __quire_clients WHERE client_id = '${clientId}'`,
  ]);
  return (results[0]![0]?.last_seq as number | undefined) ?? 0;
}

const todos = (c: Client) => c.query('SELECT id, title FROM todos ORDER BY id');

describe('server-side rejection', () => {
  let h: Harness<TodoReducers>;
  beforeEach(async () => {
    h = await startHarness(todoReducers);
  });
  afterEach(() => h.close());

  test('two clients race addUniqueTodo with one title: the loser is rolled back everywhere and told why', async () => {
    const [a, b, c] = [h.client(), h.client(), h.client()];
    await a.mutate.init().server;
    await expectAllLikeServer(h.server, [a, b, c]);

    // Issued in the same tick: neither client has seen the other's todo, so both local checks pass.
    const fromA = a.mutate.addUniqueTodo({ id: 'from-a', title: 'same' });
    const fromB = b.mutate.addUniqueTodo({ id: 'from-b', title: 'same' });
    await Promise.all([fromA.local, fromB.local]);
    expect(await todos(a)).toEqual([{ id: 'from-a', title: 'same' }]);
    expect(await todos(b)).toEqual([{ id: 'from-b', title: 'same' }]);

    const [ra, rb] = await Promise.all([outcome(fromA.server), outcome(fromB.server)]);
    expect([ra.ok, rb.ok].filter(Boolean), 'exactly one of the two racing adds wins').toHaveLength(1);
    const [winner, loser, loserHandle, winnerId, loserId] = ra.ok ? [a, b, fromB, 'from-a', 'from-b'] : [b, a, fromA, 'from-b', 'from-a'];
    expectRejected(ra.ok ? rb : ra, { reducer: 'addUniqueTodo', seq: loserHandle.seq, message: 'a todo titled "same" already exists' });

    await expectAllLikeServer(h.server, [a, b, c]);
    for (const client of [a, b, c]) {
      expect(await todos(client), `client ${client.clientId}`).toEqual([{ id: winnerId, title: 'same' }]);
      expect(await client.query('SELECT count(*) AS n FROM todos WHERE id = ?', [loserId])).toEqual([{ n: 0 }]);
    }

    // The loser keeps working: its next mutations apply, on every client.
    const later = loser.mutate.addUniqueTodo({ id: 'later', title: 'another' });
    expect((await later.server).lsn).toBeGreaterThan(0);
    await winner.mutate.toggle({ id: 'later' }).server;
    await expectAllLikeServer(h.server, [a, b, c]);
    for (const client of [a, b, c]) {
      expect(await client.query('SELECT id, title, completed FROM todos ORDER BY id')).toEqual([
        { id: winnerId, title: 'same', completed: 0 },
        { id: 'later', title: 'another', completed: 1 },
      ]);
    }
  });

  test('serverOnlyFail: applied locally, rejected by the server, only that mutation of the batch rolls back', async () => {
    const a = h.client({ userId: 'client-side' });
    const b = h.client();
    await a.mutate.init().server;

    const before = a.mutate.addTodo({ id: 'before', title: 'kept 1' });
    const failing = a.mutate.serverOnlyFail({ id: 'vanish' });
    const after = a.mutate.addTodo({ id: 'after', title: 'kept 2' });
    await Promise.all([before.local, failing.local, after.local]);
    expect(await todos(a)).toEqual([
      { id: 'after', title: 'kept 2' },
      { id: 'before', title: 'kept 1' },
      { id: 'vanish', title: 'should vanish' },
    ]);

    const [rBefore, rFailing, rAfter] = await Promise.all([outcome(before.server), outcome(failing.server), outcome(after.server)]);
    expect(rBefore.ok && rAfter.ok).toBe(true);
    expectRejected(rFailing, { reducer: 'serverOnlyFail', seq: failing.seq, message: 'the server refuses this one' });

    await expectAllLikeServer(h.server, [a, b]);
    const expected = [
      { id: 'after', title: 'kept 2' },
      { id: 'before', title: 'kept 1' },
    ];
    expect(await todos(a)).toEqual(expected);
    expect(await todos(b)).toEqual(expected);
    const { results } = await serverQuery(h.server, 'doc', ['SELECT id, title FROM todos ORDER BY id']);
    expect(results[0]).toEqual(expected);
    // The rejected seq still counts as settled: exactly-once bookkeeping moved past it.
    expect(await serverLastSeq(h.server, a.clientId)).toBe(after.seq);

    const next = a.mutate.addTodo({ id: 'next', title: 'still works' });
    await next.server;
    await expectAllLikeServer(h.server, [a, b]);
    expect(await b.query('SELECT id FROM todos ORDER BY id')).toEqual([{ id: 'after' }, { id: 'before' }, { id: 'next' }]);
  });

  test('a client that was away when its rejection was broadcast learns it on reconnect (catch-up commit)', async () => {
    const a = h.client({ userId: 'client-side' });
    const b = h.client();
    await a.mutate.init().server;
    await a.mutate.addTodo({ id: 'base', title: 'base' }).server;

    const failing = a.mutate.serverOnlyFail({ id: 'vanish' });
    let settled = false;
    void failing.server.then(
      () => (settled = true),
      () => (settled = true),
    );
    await failing.local; // the push has been handed to the socket by now
    a.disconnect();

    // The server applies (and rejects) it while `a` is gone.
    await waitFor(async () => (await serverLastSeq(h.server, a.clientId)) >= failing.seq, `server to settle seq ${failing.seq} of ${a.clientId}`);
    // Others keep committing, so `a` must catch up over several commits.
    await b.mutate.addTodo({ id: 'b1', title: 'from b' }).server;
    await b.mutate.toggle({ id: 'base' }).server;
    expect(settled, 'a disconnected client cannot have heard back').toBe(false);
    expect(await todos(a)).toContainEqual({ id: 'vanish', title: 'should vanish' });

    a.connect();
    const r = await outcome(failing.server);
    expectRejected(r, { reducer: 'serverOnlyFail', seq: failing.seq, message: 'the server refuses this one' });
    await expectAllLikeServer(h.server, [a, b]);
    for (const client of [a, b]) expect(await todos(client)).toEqual([{ id: 'b1', title: 'from b' }, { id: 'base', title: 'base' }]);
    await a.mutate.rename({ id: 'b1', title: 'renamed by a' }).server;
    await expectAllLikeServer(h.server, [a, b]);
    expect(await b.query('SELECT title FROM todos WHERE id = ?', ['b1'])).toEqual([{ title: 'renamed by a' }]);
  });

  test('a connection cut while the rejecting commit is in flight: the rejection arrives after the automatic reconnect', async () => {
    const proxy = await CutProxy.start(h.url);
    const pool = new ClientPool(todoReducers, proxy.url);
    try {
      const a = pool.client({ userId: 'client-side' });
      const b = h.client();
      await a.mutate.init().server;
      await waitForSettled(a, h.server);

      // The push reaches the server, but nothing the server sends gets back to `a`.
      proxy.pauseDown(true);
      const failing = a.mutate.serverOnlyFail({ id: 'vanish' });
      const kept = a.mutate.addTodo({ id: 'kept', title: 'kept' });
      await waitFor(async () => (await serverLastSeq(h.server, a.clientId)) >= kept.seq, `server to apply seq ${kept.seq}`);
      expect(a.status().pending).toBe(2);
      // Cut both directions (dropping the held commit) and refuse reconnects for a while.
      proxy.block(true);
      expect(proxy.cut()).toBe(1);
      proxy.pauseDown(false);
      await waitFor(() => a.status().connection !== 'connected', 'a to notice the cut');
      await b.mutate.addTodo({ id: 'b1', title: 'while a is away' }).server;
      expect(a.status().pending).toBe(2);

      proxy.block(false);
      const [rFailing, rKept] = await Promise.all([outcome(failing.server), outcome(kept.server)]);
      expectRejected(rFailing, { reducer: 'serverOnlyFail', seq: failing.seq, message: 'the server refuses this one' });
      expect(rKept.ok).toBe(true);
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
      await expectAllLikeServer(h.server, [a, b]);
      for (const client of [a, b]) expect(await todos(client)).toEqual([{ id: 'b1', title: 'while a is away' }, { id: 'kept', title: 'kept' }]);
    } finally {
      await pool.close();
      await proxy.close();
    }
  });

  // A client that reconnects with lastLsn 0 is welcomed with a snapshot,
  // which settles every seq <= last_seq as applied; the welcome must carry
  // the rejections so the rejected call is not mistaken for an applied one.
  test('a rejection in the first commit of a new document reaches a client that reconnects from LSN 0 (snapshot catch-up)', async () => {
    const a = h.client({ docId: 'fresh', userId: 'client-side' });
    const b = h.client({ docId: 'fresh' });
    await waitFor(() => a.status().connection === 'connected', 'a to connect');
    expect(a.status().lsn).toBe(0);

    // Both go out in one push and land in one batch: LSN 1.
    const init = a.mutate.init();
    const failing = a.mutate.serverOnlyFail({ id: 'vanish' });
    await failing.local;
    a.disconnect();
    await waitFor(async () => (await serverLastSeq(h.server, a.clientId, 'fresh')) >= failing.seq, 'server to settle the push');

    // `a` never received a commit, so it says hello with lastLsn 0 and gets a snapshot.
    a.connect();
    const [rInit, rFailing] = await Promise.all([outcome(init.server), outcome(failing.server)]);
    expect(rInit.ok).toBe(true);
    expectRejected(rFailing, { reducer: 'serverOnlyFail', seq: failing.seq, message: 'the server refuses this one' });
    await expectAllLikeServer(h.server, [a, b], 'fresh');
    for (const client of [a, b]) expect(await todos(client)).toEqual([]);
  });
});
