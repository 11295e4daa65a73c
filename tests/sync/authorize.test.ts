import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { QuireClient } from '@quire/core';
import { PROTOCOL_VERSION, encodeMessage } from '@quire/core/protocol';
import type { Authorize } from '@quire/server';
import { describe as describeFrames, openRaw } from '../helpers/raw-socket.js';
import { expectSameSnapshot, serverRows } from '../helpers/server-state.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

/** Close code for refused connections (packages/server/src/session.ts CLOSE.unauthorized). */
const CLOSE_UNAUTHORIZED = 4401;

/** Tokens, their users, and the documents each user may open. */
const USERS: Record<string, { userId: string; docs: string[] }> = {
  'tok-alice': { userId: 'alice', docs: ['docX'] },
  'tok-bob': { userId: 'bob', docs: ['docX', 'docY'] },
};

interface Call {
  docId: string;
  token: string | null;
  url: string;
  /** Set once authorize answered. */
  answered?: boolean;
}

/** An authorize hook like an app's: an async token lookup (it takes a few ms, like a database). */
function makeAuthorize(calls: Call[], delayMs: number): Authorize {
  return async ({ request, docId }) => {
    const token = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
    const call: Call = { docId, token, url: request.url ?? '' };
    calls.push(call);
    await new Promise((r) => setTimeout(r, delayMs));
    call.answered = true;
    if (token === 'tok-throws') throw new Error('token service rejected the token');
    if (token === 'tok-false') return false;
    const user = token ? USERS[token] : undefined;
    return user && user.docs.includes(docId) ? { userId: user.userId } : null;
  };
}

describe('authorize', () => {
  let h: Harness<TodoReducers>;
  const calls: Call[] = [];
  const as = (token: string) => ({ token });

  beforeAll(async () => {
    h = await startHarness(todoReducers, { authorize: makeAuthorize(calls, 20) });
    // Both documents start with data only an authorized user may see.
    for (const docId of ['docX', 'docY']) {
      await h.server.mutate(docId, 'init', undefined);
      await h.server.mutate(docId, 'addTodo', { id: `${docId}-secret`, title: `secret of ${docId}` }, { userId: 'admin' });
    }
  });
  afterAll(() => h?.close());

  const authorized = async (token: string, docId: string, clientId: string, userId?: string): Promise<QuireClient<TodoReducers>> => {
    const client = h.client({ docId, clientId, params: as(token), ...(userId ? { userId } : {}) });
    await waitFor(() => client.status().connection === 'connected', `${clientId} to connect to ${docId} (status ${JSON.stringify(client.status())})`);
    return client;
  };

  test('an allowed user connects; reducers see ctx.userId from authorize, not what the client claims', async () => {
    const from = calls.length;
    // The client claims to be mallory for its optimistic apply; the server knows better.
    const alice = await authorized('tok-alice', 'docX', 'alice_1', 'mallory');
    const handle = alice.mutate.addTodo({ id: 'a1', title: 'from alice' });
    await handle.local;
    expect(await alice.query("SELECT author FROM todos WHERE id = 'a1'")).toEqual([{ author: 'mallory' }]);
    const { lsn } = await handle.server;
    expect(lsn).toBeGreaterThan(0);

    expect(await serverRows(h, "SELECT id, title, author FROM todos WHERE id = 'a1'", 'docX', as('tok-bob'))).toEqual([
      { id: 'a1', title: 'from alice', author: 'alice' },
    ]);
    // After the rebase the client holds the server's row, page for page.
    await waitForSettled(alice, h.server, 'docX');
    await expectSamePages(alice, h.server, 'docX');
    expect(await alice.query('SELECT id, author FROM todos ORDER BY id')).toEqual([
      { id: 'a1', author: 'alice' },
      { id: 'docX-secret', author: 'admin' },
    ]);

    // authorize saw the upgrade request and the document it asks for.
    const mine = calls.slice(from).filter((c) => c.token === 'tok-alice');
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine[0]!.docId).toBe('docX');
    expect(mine[0]!.url).toContain('doc=docX');
  });

  test('server-started mutations carry the userId they are given', async () => {
    await h.server.mutate('docX', 'addTodo', { id: 'srv1', title: 'from the server' }, { userId: 'ops' });
    await h.server.mutate('docX', 'addTodo', { id: 'srv2', title: 'anonymous' });
    expect(await serverRows(h, "SELECT id, author FROM todos WHERE id LIKE 'srv%' ORDER BY id", 'docX', as('tok-bob'))).toEqual([
      { id: 'srv1', author: 'ops' },
      { id: 'srv2', author: null },
    ]);
  });

  const refusals: Array<[string, string | null, string]> = [
    ['authorize returns null (user not allowed on this document)', 'tok-alice', 'docY'],
    ['authorize returns null (unknown token)', 'tok-nobody', 'docY'],
    ['authorize returns null (no token)', null, 'docY'],
    ['authorize returns false', 'tok-false', 'docX'],
    ['authorize throws', 'tok-throws', 'docX'],
  ];

  describe.each(refusals)('refused: %s', (_label, token, docId) => {
    const params = token ? as(token) : undefined;

    test('a raw socket gets one unauthorized error frame, then the close; a hello and push sent at once get nothing', async () => {
      const before = await h.server.snapshot(docId);
      const query = token ? `&token=${token}` : '';
      const socket = await openRaw(`${h.url}/?doc=${docId}${query}`, null);
      // Sent the moment the socket opens: they must not reach the document.
      socket.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId: 'intruder', lastLsn: 0, fromSeq: 0, partial: false, held: [] });
      socket.sendBytes(
        encodeMessage({ type: 'push', mutations: [{ seq: 1, name: 'addTodo', args: JSON.stringify({ json: { id: 'intrusion', title: 'x' } }) }] }),
      );
      const closed = await socket.waitClosed();
      expect(closed.code).toBe(CLOSE_UNAUTHORIZED);
      expect(closed.reason).toBe('unauthorized');
      expect(describeFrames(socket.received)).toBe('error(unauthorized, seq 0, fatal true)');
      const error = socket.received[0]!;
      if (error.type !== 'error') throw new Error('expected an error frame');
      expect(error.message).toContain(`"${docId}"`);
      if (token === 'tok-throws') expect(error.message).toContain('token service rejected the token');
      expectSameSnapshot(await h.server.snapshot(docId), before, `${docId} after a refused raw socket`);
    });

    test('a client becomes unauthorized, cannot read server data, cannot write, and does not retry', async () => {
      const before = await h.server.snapshot(docId);
      const clientId = `refused_${Math.random().toString(36).slice(2, 8)}`;
      const from = calls.length;
      const client = h.client({ docId, clientId, ...(params ? { params } : {}) });
      await waitFor(() => client.status().connection === 'unauthorized', `${clientId} to become unauthorized (status ${JSON.stringify(client.status())})`);
      expect(client.status().lastError?.code).toBe('unauthorized');
      expect(client.status().lsn).toBe(0);
      // Nothing of the server's document reached the replica.
      expect(await client.query("SELECT name FROM sqlite_schema WHERE name = 'todos'")).toEqual([]);
      await client.inspect((replica) => {
        expect(replica.pages.baseImage().lsn).toBe(0);
        expect(replica.pages.baseImage().pages.size).toBe(0);
      });

      // Local writes still work optimistically, but never reach the server.
      const init = client.mutate.init();
      const add = client.mutate.addTodo({ id: `${clientId}-t`, title: 'never synced' });
      await Promise.all([init.local, add.local]);
      let settled = false;
      void Promise.allSettled([init.server, add.server]).then(() => (settled = true));
      // An allowed user's write to the same document goes through meanwhile.
      const bob = await authorized('tok-bob', docId, `bob_${clientId}`);
      await bob.mutate.addTodo({ id: `bob-after-${clientId}`, title: 'bob' }).server;
      await waitForSettled(bob, h.server, docId);

      expect(settled).toBe(false);
      expect(client.status()).toMatchObject({ connection: 'unauthorized', pending: 2, lsn: 0 });
      expect(await serverRows(h, `SELECT id FROM todos WHERE id = '${clientId}-t'`, docId, as('tok-bob'))).toEqual([]);
      expect(await serverRows(h, `SELECT client_id FROM __quire_clients WHERE client_id = '${clientId}'`, docId, as('tok-bob'))).toEqual([]);
      const after = await h.server.snapshot(docId);
      expect(after.lsn).toBe(before.lsn + 1); // bob's commit only
      // Retrying with the same credentials cannot succeed: authorize ran once for this client.
      expect(calls.slice(from).filter((c) => c.token === token && c.docId === docId)).toHaveLength(1);
      await bob.close();
    });
  });

  test('per-document rules: alice may open docX but not docY; bob may open both', async () => {
    const aliceX = await authorized('tok-alice', 'docX', 'alice_x');
    const bobY = await authorized('tok-bob', 'docY', 'bob_y');
    const aliceY = h.client({ docId: 'docY', clientId: 'alice_y', params: as('tok-alice') });
    await waitFor(() => aliceY.status().connection === 'unauthorized', `alice to be refused on docY (status ${JSON.stringify(aliceY.status())})`);

    await aliceX.mutate.addTodo({ id: 'x-by-alice', title: 'x' }).server;
    await bobY.mutate.addTodo({ id: 'y-by-bob', title: 'y' }).server;
    await waitForSettled(aliceX, h.server, 'docX');
    await waitForSettled(bobY, h.server, 'docY');
    await expectSamePages(aliceX, h.server, 'docX');
    await expectSamePages(bobY, h.server, 'docY');
    expect(await aliceX.query("SELECT id, author FROM todos WHERE id LIKE '%-by-%'")).toEqual([{ id: 'x-by-alice', author: 'alice' }]);
    expect(await bobY.query("SELECT id, author FROM todos WHERE id LIKE '%-by-%'")).toEqual([{ id: 'y-by-bob', author: 'bob' }]);
    // docY's data never reached alice.
    expect(aliceY.status().lsn).toBe(0);
    expect(await aliceY.query("SELECT name FROM sqlite_schema WHERE name = 'todos'")).toEqual([]);
  });

  test('a refused connection does not open (or create) the document', async () => {
    const socket = await openRaw(`${h.url}/?doc=docZ&token=tok-alice`, null);
    socket.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId: 'alice_z', lastLsn: 0, fromSeq: 0, partial: false, held: [] });
    expect((await socket.waitClosed()).code).toBe(CLOSE_UNAUTHORIZED);
    expect(existsSync(join(h.dataDir, 'docZ'))).toBe(false);
    // Control: an allowed document does get its folder.
    expect(existsSync(join(h.dataDir, 'docX'))).toBe(true);
  });
});

describe('authorize that takes a while (a database or token-service lookup)', () => {
  let h: Harness<TodoReducers>;
  const calls: Call[] = [];
  beforeAll(async () => {
    h = await startHarness(todoReducers, { authorize: makeAuthorize(calls, 300) });
  });
  afterAll(() => h?.close());

  test('the hello a client sends at once is not lost while authorize runs', async () => {
    const socket = await openRaw(`${h.url}/?doc=docX&token=tok-bob`, null);
    // ws reports open only after the upgrade, so this hello is sent as early as a real client sends it.
    await socket.hello('bob_raw');
    expect(socket.received.map((m) => m.type).slice(0, 2)).toEqual(['welcome', 'snapshot']);
    await socket.close();
    const client = h.client({ docId: 'docX', clientId: 'bob_slow', params: { token: 'tok-bob' } });
    await client.mutate.init().server;
    const { lsn } = await client.mutate.addTodo({ id: 'slow', title: 'after a slow authorize' }).server;
    expect(lsn).toBe(2);
    expect(await client.query('SELECT author FROM todos')).toEqual([{ author: 'bob' }]);
  });

  test('a client that disconnects while authorize runs leaves the server serving', async () => {
    const ws = new WebSocket(`${h.url}/?doc=docX&token=tok-bob&drop=1`);
    ws.on('error', () => {});
    await waitFor(() => calls.some((c) => c.url.includes('drop=1')), 'authorize to be asked about the dropped connection');
    // Drop the TCP connection before authorize answers.
    ws.terminate();
    await waitFor(() => calls.some((c) => c.url.includes('drop=1') && c.answered), 'authorize to answer');
    const client = h.client({ docId: 'docX', clientId: 'bob_after', params: { token: 'tok-bob' } });
    await client.mutate.addTodo({ id: 'after-drop', title: 'still serving' }).server;
  });
});
