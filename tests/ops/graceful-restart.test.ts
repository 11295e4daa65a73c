import { afterEach, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { LEDGER_REDUCERS_FILE, type LedgerReducers, ledgerReducers } from '../helpers/ledger-reducers.js';
import { type LedgerWriters, startLedgerWriters } from '../helpers/ledger-writers.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { scratchDirs } from '../helpers/scratch-dirs.js';
import { waitFor } from '../helpers/wait-for.js';

/*
 * A graceful restart of a real `quire serve` process: SIGTERM makes it stop
 * taking connections, drain every document (queued mutations applied and
 * made durable, documents closed, on worker threads too) and close its
 * clients' sockets with 1012, then exit 0. A new process on the same data
 * directory and port takes over; the clients reconnect by themselves (with
 * their default reconnect options) and nothing is lost or applied twice.
 */
const DOC = 'ledger';
const scratch = scratchDirs();
afterEach(() => killAllServerProcesses());

function serve(dataDir: string, workers: number, port = 0): Promise<ServerProcess> {
  return startServerProcess({ reducers: LEDGER_REDUCERS_FILE, dataDir, port, args: ['--workers', String(workers), '--log-level', 'info'] });
}

interface View {
  ids: string[];
  counters: Array<{ client: string; applied: number }>;
}

/** The clients' `entries` and `counters` (all of one document) once each has settled its calls and seen the same LSN. */
async function converged(clients: ReadonlyArray<QuireClient<LedgerReducers>>, lastConfirmed: number): Promise<View[]> {
  await Promise.all(clients.map((c) => c.synced()));
  await waitFor(() => clients.every((c) => c.status().lsn === clients[0]!.status().lsn && c.status().lsn >= lastConfirmed), 'every client of the document at the same LSN');
  const reads = clients.map(async (c) => ({
    ids: (await c.query<{ id: string }>('SELECT id FROM entries ORDER BY rowid')).map((r) => r.id),
    counters: await c.query<{ client: string; applied: number }>('SELECT client, applied FROM counters ORDER BY client'),
  }));
  return Promise.all(reads);
}

test.each([1, 2])('SIGTERM with --workers %i: the process drains and exits 0, clients reconnect to the next one by themselves, every call applied exactly once', async (workers) => {
  const dataDir = scratch.make('graceful');
  // Several documents, so the drain has more than one to close (and, with 2 workers, on both).
  const docs = [DOC, 'ledger-b', 'ledger-c'];
  const first = await serve(dataDir, workers);
  const clients = docs.flatMap((docId) => [0, 1].map((i) => createClient({ url: first.url, docId, reducers: ledgerReducers, clientId: `${docId}-w${i}` })));
  let second: ServerProcess | undefined;
  let writers: LedgerWriters | undefined;
  try {
    await Promise.all(clients.filter((_, i) => i % 2 === 0).map((c) => c.mutate.init().server));
    writers = startLedgerWriters(clients);
    const { confirmed, failures } = writers;
    await waitFor(() => confirmed.size >= 60, 'calls confirmed before the restart');

    const exit = await first.kill('SIGTERM');
    expect(exit, first.output()).toEqual({ code: 0, signal: null });
    expect(first.output()).toMatch(/draining: stopped taking connections; closing 3 document\(s\)/);
    expect(first.output()).toMatch(/drained in \d+ ms: 3 document\(s\) closed; every connection closed with 1012/);
    // While no server runs, the clients keep calling: those calls wait in their queues.
    const beforeRestart = writers.issued.length;
    await waitFor(() => writers!.issued.length >= beforeRestart + 12, 'calls made while no server runs');

    second = await serve(dataDir, workers, first.port);
    // Nobody calls connect(): the clients come back on their own.
    const afterRestart = confirmed.size;
    await waitFor(() => confirmed.size >= afterRestart + 60, `calls confirmed by the new process (${confirmed.size}; failures: ${failures.map(String).join('; ')})`, 60_000);
    await writers.stop();

    expect(failures).toEqual([]);
    for (const [d, docId] of docs.entries()) {
      const mine = writers.issued.filter((id) => id.startsWith(`${docId}-w`));
      const [a, b] = (await converged(clients.slice(2 * d, 2 * d + 2), Math.max(...mine.map((id) => confirmed.get(id) ?? 0)))) as [View, View];
      expect(b).toEqual(a);
      // Each call once: no duplicate rows, none missing, and each client's counter matches its calls.
      expect([...a.ids].sort()).toEqual([...mine].sort());
      expect(a.counters).toEqual([0, 1].map((i) => ({ client: `${docId}-w${i}`, applied: mine.filter((id) => id.startsWith(`${docId}-w${i}-`)).length })));
    }
    // Every call's `server` promise settled, confirmed.
    expect(confirmed.size).toBe(writers.issued.length);
    expect(clients.every((c) => c.status().connection === 'connected')).toBe(true);
  } catch (error) {
    console.log(`--- first process\n${first.output().slice(-6000)}\n--- second process\n${second?.output().slice(-6000)}`);
    throw error;
  } finally {
    await writers?.stop();
    await Promise.all(clients.map((c) => c.close()));
  }
}, 180_000);

test('a push the server has not read when SIGTERM arrives is not lost: applied once, by the draining process or the next', async () => {
  const dataDir = scratch.make('graceful-inflight');
  const first = await serve(dataDir, 2);
  const client = createClient({ url: first.url, docId: DOC, reducers: ledgerReducers, clientId: 'inflight' });
  let second: ServerProcess | undefined;
  try {
    await client.mutate.init().server;
    // Stopped, the process reads nothing: the push below waits in its socket, and SIGTERM waits with it.
    process.kill(first.pid, 'SIGSTOP');
    const calls = Array.from({ length: 50 }, (_, i) => client.mutate.append({ id: `m${i + 1}`, client: 'inflight', n: i + 1, padBytes: 0 }));
    await Promise.all(calls.map((c) => c.local));
    // The push goes out at the end of the task that made the calls.
    await new Promise((resolve) => setImmediate(resolve));
    const settled = calls.map(() => false);
    calls.forEach((c, i) => void c.server.then(() => (settled[i] = true)));
    expect(client.status().pending).toBe(50);
    process.kill(first.pid, 'SIGTERM');
    process.kill(first.pid, 'SIGCONT');
    expect(await first.exit).toEqual({ code: 0, signal: null });
    // Whichever the process saw first (the signal or the push), every call is either confirmed by its drain or still pending: never dropped.
    const confirmedByDrain = settled.filter(Boolean).length;
    expect(client.status().pending).toBe(50 - confirmedByDrain);

    second = await serve(dataDir, 2, first.port);
    const results = await Promise.all(calls.map((c) => c.server));
    expect(results.every((r) => r.lsn > 0)).toBe(true);
    const rows = await client.query<{ id: string; copies: number }>('SELECT id, count(*) AS copies FROM entries GROUP BY id ORDER BY n');
    expect(rows).toEqual(Array.from({ length: 50 }, (_, i) => ({ id: `m${i + 1}`, copies: 1 })));
    expect(await client.query('SELECT applied FROM counters')).toEqual([{ applied: 50 }]);
  } catch (error) {
    console.log(`--- first process\n${first.output().slice(-6000)}\n--- second process\n${second?.output().slice(-6000)}`);
    throw error;
  } finally {
    await client.close();
  }
}, 120_000);
