import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type ConnectionState, type QuireClient, type Reducers, createClient } from '@quire/core';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { type AppV1, type AppV2, appV1, appV2 } from '../helpers/versioned-apps.js';
import { waitFor } from '../helpers/wait-for.js';

// Old and new clients against old and new servers, each server a real `quire serve` process.
const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers');
const V1 = join(HELPERS, 'app-v1.ts');
const V2 = join(HELPERS, 'app-v2.ts');
const DOC = 'versions';

/** What a `server` promise ended with. */
type Outcome = { ok: true } | { ok: false; code: string; message: string };

function outcome(promise: Promise<unknown>): Promise<Outcome> {
  return promise.then(
    () => ({ ok: true }),
    (error: { code: string; message: string }) => ({ ok: false, code: error.code, message: error.message }),
  );
}

describe('app versions: old and new clients, old and new servers', () => {
  let dataDir: string;
  const clients: QuireClient<Reducers>[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-app-versions-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await killAllServerProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const serve = (reducers: string, port = 0): Promise<ServerProcess> => startServerProcess({ reducers, dataDir, port });

  function client<R extends Reducers>(url: string, reducers: R, clientId: string, offline = false): QuireClient<R> {
    const c = createClient({ url, docId: DOC, reducers, clientId, offline, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
    clients.push(c as unknown as QuireClient<Reducers>);
    return c;
  }

  /** Every connection state `c` shows from now on. */
  function recordStates(c: QuireClient<Reducers>): ConnectionState[] {
    const seen: ConnectionState[] = [c.status().connection];
    c.subscribeStatus((s) => {
      if (seen[seen.length - 1] !== s.connection) seen.push(s.connection);
    });
    return seen;
  }

  test('an old client (v1) meets a v2 server: it syncs with status update_required, its calls apply once or are refused with update_required', async () => {
    const v1Server = await serve(V1);
    const old = client<AppV1>(v1Server.url, appV1, 'old');
    await old.mutate.init().server;
    await old.mutate.addTodo({ id: 't1', title: 'first' }).server;
    expect(old.status()).toMatchObject({ connection: 'connected', appVersion: { client: 1, server: 1 } });

    // Offline, the old client keeps calling the reducers it knows.
    old.disconnect();
    const calls = {
      increment: outcome(old.mutate.increment({ id: 'c' }).server),
      add: outcome(old.mutate.addTodo({ id: 't2', title: 'second' }).server),
      star: outcome(old.mutate.star({ id: 't1' }).server),
      rename: outcome(old.mutate.rename({ id: 't1', title: 'renamed' }).server),
    };
    await old.mutate.increment({ id: 'c' }).local;
    expect(old.status().pending).toBe(5);

    // The deploy: v2 replaces v1 on the same data and port.
    await v1Server.kill('SIGTERM');
    const v2Server = await serve(V2, v1Server.port);
    const states = recordStates(old as unknown as QuireClient<Reducers>);
    old.connect();
    await waitFor(() => old.status().pending === 0, 'the old client to have every call settled');

    expect(await calls.increment).toEqual({ ok: true });
    expect(await calls.add).toEqual({ ok: true });
    const star = await calls.star;
    expect(star).toMatchObject({ ok: false, code: 'update_required' });
    if (!star.ok) expect(star.message).toMatch(/reducer "star" does not exist in app version 2.*runs version 1.*reload/);
    // A reducer that still exists runs: its new argument check refuses the old shape with its own code.
    expect(await calls.rename).toMatchObject({ ok: false, code: 'invalid_args' });

    expect(old.status()).toMatchObject({ connection: 'update_required', appVersion: { client: 1, server: 2 }, lastError: undefined });
    // Welcomed by a newer server, it never claimed to be connected.
    expect(states).not.toContain('connected');
    expect(states[states.length - 1]).toBe('update_required');

    // Commits still reach it, and its new calls still sync.
    const fresh = client<AppV2>(v2Server.url, appV2, 'fresh');
    await fresh.mutate.addTodo({ id: 't3', title: 'from v2' }).server;
    await old.mutate.increment({ id: 'c' }).server;
    await old.synced();
    expect(await old.query('SELECT id, title, starred FROM todos ORDER BY id')).toEqual([
      { id: 't1', title: 'first', starred: 0 },
      { id: 't2', title: 'second', starred: 0 },
      { id: 't3', title: 'from v2', starred: 0 },
    ]);

    // Exactly once, as the server has it: two increments while offline, one after.
    await fresh.synced();
    expect(await fresh.query('SELECT n FROM counters WHERE id = ?', ['c'])).toEqual([{ n: 3 }]);
    expect(fresh.status()).toMatchObject({ connection: 'connected', appVersion: { client: 2, server: 2 } });
    expect(v2Server.output()).toMatch(/a client of an older app version connected/);
  });

  test('a new client (v2) meets a v1 server: refused and waiting, nothing applied; once v2 is deployed its calls apply exactly once', async () => {
    const v1Server = await serve(V1);
    const old = client<AppV1>(v1Server.url, appV1, 'old');
    await old.mutate.init().server;

    const fresh = client<AppV2>(v1Server.url, appV2, 'fresh', true);
    const done = [
      outcome(fresh.mutate.increment({ id: 'c' }).server),
      outcome(fresh.mutate.increment({ id: 'c' }).server),
      outcome(fresh.mutate.addTodo({ id: 't1', title: 'from v2' }).server),
    ];
    const states = recordStates(fresh as unknown as QuireClient<Reducers>);
    fresh.connect();
    await waitFor(() => fresh.status().connection === 'waiting_for_server', 'the new client to wait for a server of its version');
    expect(fresh.status()).toMatchObject({ pending: 3, appVersion: { client: 2, server: undefined }, lastError: { code: 'server_outdated' } });
    expect(fresh.status().lastError!.message).toMatch(/runs app version 2, but this server runs version 1.*keeps its changes and retries/);

    // It keeps retrying with its backoff, and keeps showing that it waits.
    const refusals = () => v1Server.output().match(/refused a client of a newer app version/g)?.length ?? 0;
    await waitFor(() => refusals() >= 3, 'three refused hellos');
    expect(fresh.status()).toMatchObject({ connection: 'waiting_for_server', pending: 3 });
    expect(states.slice(states.indexOf('waiting_for_server'))).toEqual(['waiting_for_server']);

    // Nothing of it reached the document.
    await old.synced();
    expect(await old.query('SELECT count(*) AS n FROM counters')).toEqual([{ n: 0 }]);
    expect(await old.query('SELECT count(*) AS n FROM todos')).toEqual([{ n: 0 }]);

    // The deploy finishes: v2 on the same data and port.
    await v1Server.kill('SIGTERM');
    const v2Server = await serve(V2, v1Server.port);
    await fresh.synced();
    expect(await Promise.all(done)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(fresh.status()).toMatchObject({ connection: 'connected', pending: 0, lastError: undefined, appVersion: { client: 2, server: 2 } });
    expect(await fresh.query('SELECT n FROM counters')).toEqual([{ n: 2 }]);
    expect(await fresh.query('SELECT id FROM todos')).toEqual([{ id: 't1' }]);

    // The v1 client is now the old one.
    await waitFor(() => old.status().connection === 'update_required', 'the v1 client to be told to update');
    await old.synced();
    expect(await old.query('SELECT n FROM counters')).toEqual([{ n: 2 }]);
    expect(v2Server.output()).not.toMatch(/refused a client of a newer app version/);
  });
});
