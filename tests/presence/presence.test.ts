// Presence between real clients over real WebSockets: arrive, change, leave;
// a killed client process and a half-open connection disappear; bounds give
// the sender an error and leave everyone else alone.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { createClient, type Json, type QuireClient } from '@quire/core';
import { childReaper } from '../helpers/child-reaper.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { openRaw } from '../helpers/raw-socket.js';
import { type Harness, startHarness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers');
const children = childReaper();

interface Me {
  name: string;
  editing: string | null;
}

let harness: Harness<TodoReducers> | undefined;
afterEach(async () => {
  await children.killAll();
  await harness?.close();
  harness = undefined;
});

/** What a client's others() show, as `name` or `name@editing`, for short assertions. */
function seen(client: QuireClient<TodoReducers, Me> | QuireClient<TodoReducers>): string[] {
  return (client.presence.others() as readonly { state: Me }[]).map(({ state }) => (state.editing ? `${state.name}@${state.editing}` : state.name));
}

async function waitSeen(client: QuireClient<TodoReducers, Me> | QuireClient<TodoReducers>, expected: string[], what: string): Promise<void> {
  await waitFor(() => JSON.stringify(seen(client)) === JSON.stringify(expected), `${what}: ${client.clientId} to see ${JSON.stringify(expected)} (sees ${JSON.stringify(seen(client))})`);
}

function typedClient(h: Harness<TodoReducers>, clientId: string, presence: Me | undefined, extra: { userId?: string; url?: string } = {}): QuireClient<TodoReducers, Me> {
  return createClient<TodoReducers, Me>({
    url: extra.url ?? h.url,
    docId: 'doc',
    clientId,
    reducers: todoReducers,
    reconnect: { minDelayMs: 10, maxDelayMs: 200 },
    ...(presence && { presence }),
    ...(extra.userId && { params: { user: extra.userId } }),
  });
}

describe('presence between two clients', () => {
  test('each sees the other arrive, change and leave, with its user; never itself', async () => {
    harness = await startHarness(todoReducers, { authorize: ({ request }) => ({ userId: new URL(request.url!, 'http://x').searchParams.get('user') ?? 'anon' }) });
    const ann = typedClient(harness, 'ann', { name: 'Ann', editing: null }, { userId: 'u-ann' });
    const bob = typedClient(harness, 'bob', undefined, { userId: 'u-bob' });
    const heard: number[] = [];
    bob.presence.subscribe((others) => heard.push(others.length));
    try {
      await waitSeen(bob, ['Ann'], 'Ann arrives');
      expect(bob.presence.others()[0]).toEqual({ id: 'ann:0', clientId: 'ann', userId: 'u-ann', state: { name: 'Ann', editing: null } });
      expect(heard.at(-1)).toBe(1);
      // Bob has set nothing: Ann sees no one, and never herself.
      await ann.synced();
      expect(ann.presence.others()).toEqual([]);
      expect(ann.presence.mine()).toEqual({ name: 'Ann', editing: null });

      bob.presence.set({ name: 'Bob', editing: null });
      expect(bob.presence.mine()).toEqual({ name: 'Bob', editing: null });
      await waitSeen(ann, ['Bob'], 'Bob arrives');
      expect(seen(bob)).toEqual(['Ann']);

      // Several sets in a row: the others end at the latest.
      for (let i = 1; i <= 5; i++) ann.presence.set({ name: 'Ann', editing: `t${i}` });
      await waitSeen(bob, ['Ann@t5'], 'Ann edits');

      ann.presence.set(null);
      await waitSeen(bob, [], 'Ann clears her state');
      ann.presence.set({ name: 'Ann', editing: null });
      await waitSeen(bob, ['Ann'], 'Ann is back');

      // Ordered by id, stable: a third client sorts between them.
      const cid = typedClient(harness, 'cid', { name: 'Cid', editing: null }, { userId: 'u-cid' });
      await waitSeen(ann, ['Bob', 'Cid'], 'Cid arrives');
      await waitSeen(bob, ['Ann', 'Cid'], 'Cid arrives');

      await ann.close();
      await waitSeen(bob, ['Cid'], 'Ann leaves');
      await waitSeen(cid, ['Bob'], 'Ann leaves');
      await cid.close();
      await waitSeen(bob, [], 'Cid leaves');
    } finally {
      await Promise.all([ann.close(), bob.close()]);
    }
  });

  test('while disconnected a client sees no one; on reconnect it sends its latest state again', async () => {
    harness = await startHarness(todoReducers);
    const ann = typedClient(harness, 'ann', { name: 'Ann', editing: null });
    const bob = typedClient(harness, 'bob', { name: 'Bob', editing: null });
    try {
      await waitSeen(ann, ['Bob'], 'both connected');
      await waitSeen(bob, ['Ann'], 'both connected');
      ann.disconnect();
      expect(ann.presence.others()).toEqual([]);
      await waitSeen(bob, [], 'Ann went offline');
      ann.presence.set({ name: 'Ann', editing: 'offline-edit' });
      ann.connect();
      await waitSeen(bob, ['Ann@offline-edit'], 'Ann reconnects with the state she set offline');
      await waitSeen(ann, ['Bob'], 'Ann sees Bob again');

      // A server restart drops every state; each client sends its own again.
      await harness.restart();
      await waitSeen(bob, ['Ann@offline-edit'], 'after a server restart');
      await waitSeen(ann, ['Bob'], 'after a server restart');
    } finally {
      await Promise.all([ann.close(), bob.close()]);
    }
  });

  test('a state that JSON cannot carry is refused on the spot, and nothing is sent', async () => {
    harness = await startHarness(todoReducers);
    const ann = harness.client({ clientId: 'ann' });
    expect(() => ann.presence.set({ big: 1n } as unknown as Json)).toThrow(expect.objectContaining({ code: 'invalid_presence' }));
    expect(() => ann.presence.set((() => 1) as unknown as Json)).toThrow(expect.objectContaining({ code: 'invalid_presence' }));
    expect(ann.presence.mine()).toBeNull();
  });
});

describe('a client that is gone', () => {
  test('a client process killed with SIGKILL disappears from the others', async () => {
    harness = await startHarness(todoReducers);
    const bob = typedClient(harness, 'bob', { name: 'Bob', editing: null });
    const child = spawn(process.execPath, ['--conditions=quire-source', '--import', 'tsx', join(HELPERS, 'presence-client-process.ts'), harness.url, 'doc', 'zed', JSON.stringify({ name: 'Zed', editing: null })], {
      cwd: dirname(HELPERS),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.add(child);
    try {
      await waitSeen(bob, ['Zed'], 'the child process arrives');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await waitSeen(bob, [], 'the killed process disappears');
    } finally {
      await bob.close();
    }
  });

  test('a half-open connection (no close, no answers) disappears once the liveness check notices', async () => {
    harness = await startHarness(todoReducers, { pingIntervalMs: 250 });
    const proxy = await CutProxy.start(harness.url);
    const bob = typedClient(harness, 'bob', { name: 'Bob', editing: null });
    const zed = typedClient(harness, 'zed', { name: 'Zed', editing: null }, { url: proxy.url });
    try {
      await waitSeen(bob, ['Zed'], 'Zed arrives through the proxy');
      await waitSeen(zed, ['Bob'], 'Zed sees Bob');
      // The network goes silent both ways, and no FIN or RST ever comes.
      proxy.stall(true);
      await waitSeen(bob, [], 'the silent connection is dropped');
    } finally {
      await Promise.all([bob.close(), zed.close()]);
      await proxy.close();
    }
  });
});

describe('bounds', () => {
  test('an over-size state gets its sender presence_too_large; no one is disconnected or disturbed', async () => {
    harness = await startHarness(todoReducers, { limits: { maxPresenceBytes: 200 } });
    const ann = typedClient(harness, 'ann', { name: 'Ann', editing: null });
    const bob = typedClient(harness, 'bob', { name: 'Bob', editing: null });
    try {
      await waitSeen(bob, ['Ann'], 'Ann arrives');
      await waitSeen(ann, ['Bob'], 'Bob arrives');
      ann.presence.set({ name: 'Ann', editing: 'x'.repeat(300) });
      await waitFor(() => ann.status().lastError?.code === 'presence_too_large', `Ann to hear presence_too_large (status ${JSON.stringify(ann.status())})`);
      expect(ann.status().lastError!.message).toMatch(/is \d+ bytes, over the server's limit of 200 \(limits\.maxPresenceBytes\)/);
      // Ann stays connected and her mutations go through; Bob still sees her last good state.
      await ann.mutate.init().server;
      expect(ann.status().connection).toBe('connected');
      expect(seen(bob)).toEqual(['Ann']);
      ann.presence.set({ name: 'Ann', editing: 't1' });
      await waitSeen(bob, ['Ann@t1'], 'a small state relays again');
      expect(bob.status().lastError).toBeUndefined();
    } finally {
      await Promise.all([ann.close(), bob.close()]);
    }
  });

  test('updates over the rate get their sender one presence_too_fast and are dropped; others keep going', async () => {
    harness = await startHarness(todoReducers, { limits: { maxPresenceUpdatesPerSecond: 2 } });
    const bob = typedClient(harness, 'bob', { name: 'Bob', editing: null });
    const raw = await openRaw(harness.url, 'doc');
    try {
      await raw.hello('raw');
      const from = raw.received.length;
      // Five updates in one frame: the bucket holds two.
      const states = [1, 2, 3, 4, 5].map((i) => ({ key: 0, state: JSON.stringify({ name: 'Raw', editing: `r${i}` }) }));
      raw.send({ type: 'setPresence', states });
      const error = await raw.next('error', from, 'presence_too_fast');
      expect(error).toMatchObject({ code: 'presence_too_fast', fatal: false, seq: 0 });
      expect(error.message).toMatch(/faster than the server's limit of 2 per second \(limits\.maxPresenceUpdatesPerSecond\)/);
      // Bob sees the last update that passed, r2; the socket stays open and hears Bob.
      await waitSeen(bob, ['Raw@r2'], 'the updates within the rate');
      await waitFor(() => raw.received.slice(from).some((m) => m.type === 'presence' && m.peers.some((p) => p.clientId === 'bob')), 'the raw socket to hear Bob');
      expect(raw.received.filter((m) => m.type === 'error')).toHaveLength(1);
      expect(raw.closed).toBeUndefined();
      expect(bob.status().lastError).toBeUndefined();
      bob.presence.set({ name: 'Bob', editing: 'b1' });
      await waitFor(() => raw.received.some((m) => m.type === 'presence' && m.peers.some((p) => p.state.includes('b1'))), 'Bob\'s update to reach the raw socket');
    } finally {
      await bob.close();
      await raw.close();
    }
  });

  test('a key above 63 or a state that is not JSON closes only the sender', async () => {
    harness = await startHarness(todoReducers);
    const bob = typedClient(harness, 'bob', { name: 'Bob', editing: null });
    try {
      for (const states of [[{ key: 64, state: '{}' }], [{ key: 0, state: '{not json' }]]) {
        const raw = await openRaw(harness.url, 'doc');
        await raw.hello('raw');
        raw.send({ type: 'setPresence', states });
        await expect(raw.next('error', 0)).resolves.toMatchObject({ code: 'malformed_frame', fatal: true });
        expect((await raw.waitClosed()).code).toBe(4400);
      }
      await bob.mutate.init().server;
      expect(bob.status().connection).toBe('connected');
    } finally {
      await bob.close();
    }
  });
});
