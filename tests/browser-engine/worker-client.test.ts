import 'fake-indexeddb/auto';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type ClientInspection, MutationRejectedError, type QuireClient, type Reducers, defineApp } from '@quire/core';
import { EngineHost, type PortLike, connectClient } from '@quire/core/internal';
import { type Harness, startHarness, waitForSettled } from '../helpers/sync-harness.js';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

// The engine host and the page client, joined by MessageChannels in one
// process: the same code that runs in a SharedWorker and in each tab.
let h: Harness<TodoReducers>;
let docs = 0;
const tabs: QuireClient<TodoReducers>[] = [];

beforeAll(() => {
  // The host makes its client with the global WebSocket, as in a worker.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
});
beforeEach(async () => {
  h = await startHarness(todoReducers);
});
afterEach(async () => {
  await Promise.all(tabs.splice(0).map((t) => t.close()));
  await h.close();
});

const newHost = () => new EngineHost({ reducers: todoReducers });
const openTab = (host: EngineHost, docId: string) => {
  const channel = new MessageChannel();
  host.serve(channel.port2);
  const tab = connectClient({ url: h.url, docId, reducers: todoReducers }, channel.port1);
  tabs.push(tab);
  return tab;
};
const titles = (tab: QuireClient<TodoReducers>) => tab.query<{ title: string }>('SELECT title FROM todos ORDER BY title').then((rows) => rows.map((r) => r.title));

describe('the worker-hosted engine', () => {
  test('two tabs share one engine: one client id, one replica, changes show in both at once', async () => {
    const docId = `shared${++docs}`;
    const host = newHost();
    const a = openTab(host, docId);
    const b = openTab(host, docId);
    await Promise.all([a.ready(), b.ready()]);
    expect(a.clientId).not.toBe('');
    expect(b.clientId).toBe(a.clientId);
    await waitFor(() => a.status().connection === 'connected' && b.status().connection === 'connected', 'both tabs connected');

    const seen: string[][] = [];
    b.subscribe<{ title: string }>('SELECT title FROM todos ORDER BY title', [], (rows) => seen.push(rows.map((r) => r.title)));
    await a.mutate.init().server;
    const add = a.mutate.addTodo({ id: 't1', title: 'milk' });
    await add.local;
    expect(add.seq).toBe(2);
    // b reads the same replica: the optimistic row is there before the server answers.
    expect(await titles(b)).toEqual(['milk']);
    await add.server;
    await waitFor(() => seen.some((rows) => rows.includes('milk')), 'b to see the new row');
    await waitFor(() => a.status().pending === 0 && b.status().pending === 0, 'both tabs to see nothing pending');
  });

  test('a reload restores the replica and the offline mutations from IndexedDB, then syncs them', async () => {
    const docId = `reload${++docs}`;
    const before = openTab(newHost(), docId);
    await before.mutate.init().server;
    await before.mutate.addTodo({ id: 't1', title: 'synced' }).server;
    before.disconnect();
    await waitFor(() => before.status().connection === 'offline', 'offline');
    await before.mutate.addTodo({ id: 't2', title: 'made offline' }).local;
    await waitFor(() => before.status().pending === 1, 'one pending');
    await before.close();

    // A new host is a fresh worker: all it has is what the store kept.
    const after = openTab(newHost(), docId);
    await after.ready();
    expect(after.clientId).toBe(before.clientId);
    expect(await titles(after)).toEqual(['made offline', 'synced']);
    await waitFor(() => after.status().connection === 'connected' && after.status().pending === 0, 'the offline mutation to sync');
    const fresh = h.client({ docId });
    await waitForSettled(fresh, h.server, docId);
    expect(await titles(fresh as QuireClient<TodoReducers>)).toEqual(['made offline', 'synced']);
    await waitForSettled(after, h.server, docId);
  });

  test('errors keep their type across the port: unknown reducers, server rejections, bad SQL', async () => {
    const docId = `errors${++docs}`;
    const host = newHost();
    const tab = openTab(host, docId);
    await tab.mutate.init().server;
    // A page built with a reducer the worker does not have.
    const channel = new MessageChannel();
    host.serve(channel.port2);
    const stale = connectClient({ url: h.url, docId, reducers: { ...todoReducers, definitions: { ...todoReducers.definitions, shout: () => {} } } }, channel.port1);
    tabs.push(stale as never);
    const unknown = (stale.mutate as unknown as Record<string, () => { local: Promise<void>; server: Promise<unknown> }>).shout!();
    await expect(unknown.local).rejects.toMatchObject({ code: 'unknown_reducer' });
    await expect(unknown.server).rejects.toMatchObject({ code: 'unknown_reducer' });

    await tab.mutate.addUniqueTodo({ id: 'u1', title: 'once' }).server;
    const duplicate = tab.mutate.addUniqueTodo({ id: 'u2', title: 'once' });
    const error = await duplicate.server.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MutationRejectedError);
    expect(error).toMatchObject({ reducer: 'addUniqueTodo', message: 'a todo titled "once" already exists' });

    const bad = await tab.mutate.addTodo({ id: '', title: 'empty id' }).local.catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'invalid_args' });
    await expect(tab.query('SELECT nope FROM todos')).rejects.toThrow(/no such column: nope/);
    // Queries only read, enforced by SQLite in the worker; the code crosses the port.
    await expect(tab.query('DELETE FROM todos')).rejects.toMatchObject({ name: 'QuireError', code: 'read_only_query' });
    await expect(tab.measureQuery('DROP TABLE todos')).rejects.toMatchObject({ code: 'read_only_query' });
    const liveError = new Promise((resolve) => tab.subscribe('UPDATE todos SET title = 1 RETURNING id', [], () => {}, resolve));
    await expect(liveError).resolves.toMatchObject({ code: 'read_only_query' });
    expect(await titles(tab)).toEqual(['once']);
  });

  test('inspection crosses the port: one-shot, and streamed only to the tabs that subscribe, until they stop', async () => {
    const docId = `inspect${++docs}`;
    const host = newHost();
    const a = openTab(host, docId);
    const b = openTab(host, docId);
    await a.mutate.init().server;
    const once = await b.inspection();
    expect(once).toMatchObject({ docId, clientId: a.clientId, pendingCount: 0 });
    expect(once.received.frames).toBeGreaterThan(0);

    const heardA: ClientInspection[] = [];
    let heardB = 0;
    const stopA = a.subscribeInspection((i) => heardA.push(i));
    const stopB = b.subscribeInspection(() => heardB++);
    stopB();
    a.disconnect();
    await waitFor(() => heardA.at(-1)?.connection === 'offline', 'a to hear the engine went offline');
    await b.mutate.addTodo({ id: 't1', title: 'from b' }).local;
    await waitFor(() => heardA.at(-1)?.pending[0]?.state === 'applied', 'a to hear of b\'s pending call');
    expect(heardA.at(-1)!.pending[0]).toMatchObject({ name: 'addTodo', args: '{"id":"t1","title":"from b"}' });
    a.connect();
    await waitFor(() => heardA.at(-1)?.pendingCount === 0 && heardA.at(-1)?.settled[0]?.name === 'addTodo', 'a to hear it confirmed');
    expect(heardA.at(-1)!.settled[0]!.state).toBe('confirmed');
    expect(heardB).toBe(0);
    stopA();
  });

  test('presence: tabs sharing one engine each have their own state, see each other and other clients, and a closed tab drops out', async () => {
    const docId = `presence${++docs}`;
    const host = newHost();
    const a = openTab(host, docId);
    const b = openTab(host, docId);
    const node = h.client({ docId });
    await Promise.all([a.ready(), b.ready(), node.synced()]);
    const names = (peers: readonly { state: unknown }[]) => peers.map((p) => (p.state as { name: string }).name).sort().join(',');

    a.presence.set({ name: 'tab A' });
    b.presence.set({ name: 'tab B' });
    node.presence.set({ name: 'node' });
    expect(a.presence.mine()).toEqual({ name: 'tab A' });
    await waitFor(() => names(a.presence.others()) === 'node,tab B', `tab A to see tab B and node (sees ${names(a.presence.others())})`);
    await waitFor(() => names(b.presence.others()) === 'node,tab A', `tab B to see tab A and node (sees ${names(b.presence.others())})`);
    await waitFor(() => names(node.presence.others()) === 'tab A,tab B', `node to see both tabs (sees ${names(node.presence.others())})`);
    // One engine, one client id, two states.
    const tabs = node.presence.others();
    expect(new Set(tabs.map((p) => p.clientId))).toEqual(new Set([a.clientId]));
    expect(new Set(tabs.map((p) => p.id)).size).toBe(2);

    // A state the tab cannot send fails in the tab, where the caller can catch it.
    expect(() => b.presence.set({ n: 1n } as never)).toThrow(expect.objectContaining({ code: 'invalid_presence' }));

    const heard: string[] = [];
    const stop = b.presence.subscribe((others) => heard.push(names(others)));
    await a.close();
    await waitFor(() => names(node.presence.others()) === 'tab B', 'node to see tab A leave');
    await waitFor(() => names(b.presence.others()) === 'node', 'tab B to see tab A leave');
    expect(heard.at(-1)).toBe('node');
    stop();

    // The key tab A held goes to the next tab.
    const c = openTab(host, docId);
    c.presence.set({ name: 'tab C' });
    await waitFor(() => names(node.presence.others()) === 'tab B,tab C', 'node to see tab C arrive');
    b.presence.set(null);
    await waitFor(() => names(node.presence.others()) === 'tab C', 'node to see tab B clear its state');
  });

  test('presence: after a leader handoff the tab\'s state goes to the new engine', async () => {
    const docId = `handoff${++docs}`;
    const node = h.client({ docId });
    await node.synced();
    const names = () => node.presence.others().map((p) => (p.state as { name: string }).name).join(',');
    // A port that can be moved to another engine, as leader-election's does when the leader tab changes.
    let channel = new MessageChannel();
    const first = newHost();
    first.serve(channel.port2);
    const port: PortLike = { onmessage: null, onreset: null, postMessage: (data) => channel.port1.postMessage(data) };
    const wire = () => (channel.port1.onmessage = (event) => port.onmessage?.(event));
    wire();
    const tab = connectClient({ url: h.url, docId, reducers: todoReducers }, port);
    tabs.push(tab);
    tab.presence.set({ name: 'tab' });
    await waitFor(() => names() === 'tab', 'node to see the tab');

    // The old engine's last tab goes: it closes, and its connection with it.
    channel.port1.postMessage({ t: 'close' });
    await waitFor(() => names() === '', 'node to see the old engine\'s state go');
    channel = new MessageChannel();
    newHost().serve(channel.port2);
    wire();
    port.onreset?.([]);
    await waitFor(() => names() === 'tab', 'node to see the tab again, through the new engine');
    expect(tab.presence.mine()).toEqual({ name: 'tab' });
  });

  test('synced() crosses the port: it resolves once the tab sees the server state, mutations made before included', async () => {
    const docId = `synced${++docs}`;
    const writer = h.client({ docId });
    await writer.mutate.init().server;
    await writer.mutate.addTodo({ id: 'w', title: 'from the server' }).server;
    const tab = openTab(newHost(), docId);
    tab.mutate.addTodo({ id: 't', title: 'from the tab' });
    await tab.synced();
    expect(tab.status()).toMatchObject({ connection: 'connected', pending: 0 });
    expect(await titles(tab)).toEqual(['from the server', 'from the tab']);
  });

  test('app versions reach the tabs: waiting_for_server against an older server, update_required against a newer one', async () => {
    /** A tab of an engine host running `reducers`, syncing with the server at `url`. */
    const tabOf = <R extends Reducers>(reducers: R, url: string, docId: string): QuireClient<R> => {
      const channel = new MessageChannel();
      new EngineHost({ reducers }).serve(channel.port2);
      const tab = connectClient({ url, docId, reducers }, channel.port1);
      tabs.push(tab as unknown as QuireClient<TodoReducers>);
      return tab;
    };
    // The harness's server runs the unversioned app (version 0): version 1 is newer.
    const v1 = defineApp({ version: 1, reducers: todoReducers.definitions });
    const waiting = tabOf(v1, h.url, `versions${++docs}`);
    await waitFor(() => waiting.status().connection === 'waiting_for_server', 'the tab of a newer app to wait');
    expect(waiting.status()).toMatchObject({ appVersion: { client: 1, server: undefined }, lastError: { code: 'server_outdated' } });

    const v2 = await startHarness(defineApp({ version: 2, reducers: todoReducers.definitions }));
    try {
      const outdated = tabOf(v1, v2.url, `versions${++docs}`);
      await waitFor(() => outdated.status().connection === 'update_required', 'the tab of an older app to be told to update');
      expect(outdated.status()).toMatchObject({ appVersion: { client: 1, server: 2 } });
      // It still syncs.
      await outdated.mutate.init().server;
    } finally {
      await Promise.all(tabs.splice(0).map((t) => t.close()));
      await v2.close();
    }
  });

  test('the store is per document: a second document starts empty', async () => {
    const host = newHost();
    const one = openTab(host, `one${++docs}`);
    await one.mutate.init().server;
    await one.mutate.addTodo({ id: 'x', title: 'only in one' }).server;
    const two = openTab(host, `two${docs}`);
    await two.ready();
    expect(two.clientId).not.toBe(one.clientId);
    await expect(two.query('SELECT * FROM todos')).rejects.toThrow(/no such table/);
  });

  test('a worker that fails to start fails every call with its error, instead of leaving the page waiting', async () => {
    const channel = new MessageChannel();
    const tab = connectClient({ url: h.url, docId: 'doomed', reducers: todoReducers }, channel.port1);
    tabs.push(tab);
    const errors: unknown[] = [];
    tab.subscribe('SELECT 1', [], () => {}, (error) => errors.push(error));
    const query = tab.query('SELECT 1');
    // What the page side posts itself when the worker's `error` event fires.
    channel.port2.postMessage({ t: 'fatal', error: { name: 'QuireError', code: 'worker_failed', message: 'the Quire worker failed: boom' } });
    await expect(tab.ready()).rejects.toMatchObject({ code: 'worker_failed' });
    await expect(query).rejects.toMatchObject({ code: 'worker_failed' });
    expect(errors).toEqual([expect.objectContaining({ code: 'worker_failed' })]);
    expect(tab.status()).toMatchObject({ connection: 'closed', lastError: { code: 'worker_failed', message: 'the Quire worker failed: boom' } });
    await expect(tab.mutate.init().local).rejects.toMatchObject({ code: 'worker_failed' });
  });
  test('a partial host: tabs fetch pages on demand, hydrate reports progress, and a reload keeps what was fetched', async () => {
    const docId = `partial${++docs}`;
    const writer = h.client({ docId });
    await writer.mutate.init().server;
    // Titles of ~1 KB: a few hundred rows span many pages.
    for (let i = 0; i < 300; i++) writer.mutate.addTodo({ id: `t${String(i).padStart(3, '0')}`, title: `${i} ${'x'.repeat(1000)}` });
    await waitForSettled(writer, h.server, docId);
    const total = (await h.server.snapshot(docId)).pageCount;

    const partialHost = () => new EngineHost({ reducers: todoReducers, partial: true });
    const tab = openTab(partialHost(), docId);
    await waitFor(() => tab.status().connection === 'connected' && tab.status().lsn > 0, 'the tab to connect');
    const cold = await tab.measureQuery<{ n: number }>('SELECT count(*) AS n FROM todos WHERE length(title) > 0');
    expect(cold.rows).toEqual([{ n: 300 }]);
    expect(cold.stats.pagesFetched).toBeGreaterThan(50);
    const warm = await tab.measureQuery('SELECT count(*) AS n FROM todos WHERE length(title) > 0');
    expect(warm.stats).toMatchObject({ pagesFetched: 0, roundTrips: 0 });

    const progress: Array<{ pages: number; total: number }> = [];
    await tab.hydrate({ onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)).toEqual({ pages: total, total });
    expect(progress.every((p, i) => i === 0 || p.pages >= progress[i - 1]!.pages)).toBe(true);
    await tab.close();

    // A fresh worker restores every page from IndexedDB: it reads offline.
    const reloaded = openTab(partialHost(), docId);
    await reloaded.ready();
    reloaded.disconnect();
    const offline = await reloaded.measureQuery<{ n: number }>('SELECT count(*) AS n FROM todos WHERE length(title) > 0');
    expect(offline.rows).toEqual([{ n: 300 }]);
    expect(offline.stats.pagesFetched).toBe(0);
  });
});
