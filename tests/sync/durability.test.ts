import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '@quire/server';
import { ledgerReducers, type LedgerReducers } from '../helpers/ledger-reducers.js';
import { openRaw } from '../helpers/raw-socket.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { expectSamePages, waitForSettled } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { seedFromEnv, seededRandom } from '../helpers/seeded-random.js';

const REDUCERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers/ledger-reducers.ts');
const DOC = 'ledger';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One `append` a client issued, and what its `server` promise said. */
interface Issued {
  id: string;
  client: string;
  n: number;
  /** The commit LSN its server promise resolved with. */
  lsn?: number;
  error?: unknown;
}

type EntryRow = {
  id: string;
  client: string;
  n: number;
};

describe('durability: the server process is SIGKILLed while clients write', () => {
  let dataDir: string;
  const clients: QuireClient<LedgerReducers>[] = [];
  let inProcess: SyncServer<LedgerReducers> | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-durability-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await inProcess?.close();
    inProcess = undefined;
    await killAllServerProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const client = (url: string, clientId: string): QuireClient<LedgerReducers> => {
    const c = createClient({ url, docId: DOC, reducers: ledgerReducers, clientId, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
    clients.push(c);
    return c;
  };

  /**
   * SIGKILLs the child one last time and reopens its data in this process, on
   * the same port, so replicas can be compared page by page with the server.
   */
  const recoverInProcess = async (proc: ServerProcess, port: number, settled: QuireClient<LedgerReducers>[] = []): Promise<SyncServer<LedgerReducers>> => {
    await proc.kill('SIGKILL');
    const server = createSyncServer({ reducers: ledgerReducers, dataDir });
    inProcess = server;
    await server.listen(port);
    for (const c of settled) {
      await waitForSettled(c, server, DOC);
      await expectSamePages(c, server, DOC);
    }
    return server;
  };

  /** Issues `append` and records the outcome of its server promise in `log`. */
  const append = (c: QuireClient<LedgerReducers>, log: Map<string, Issued>, n: number, padBytes = 0, onConfirmed?: () => void): Issued => {
    const entry: Issued = { id: `${c.clientId}-${n}`, client: c.clientId, n };
    log.set(entry.id, entry);
    c.mutate.append({ id: entry.id, client: c.clientId, n, padBytes }).server.then(
      ({ lsn }) => {
        entry.lsn = lsn;
        onConfirmed?.();
      },
      (error: unknown) => (entry.error = error),
    );
    return entry;
  };

  /** The LSN the restarted server welcomes a brand-new connection at. */
  const welcomeLsn = async (url: string, probeId: string): Promise<number> => {
    const probe = await openRaw(url, DOC);
    try {
      return (await probe.hello(probeId)).lsn;
    } finally {
      await probe.close();
    }
  };

  /** Every row of the document, read by a fresh client checked page for page against `server`. */
  const readAll = async (server: SyncServer<LedgerReducers>, url: string) => {
    const reader = client(url, `reader_${Math.random().toString(36).slice(2, 8)}`);
    await waitForSettled(reader, server, DOC);
    await expectSamePages(reader, server, DOC);
    const entries = await reader.query<EntryRow>('SELECT id, client, n FROM entries ORDER BY rowid');
    const counters = await reader.query<{ client: string; applied: number }>('SELECT client, applied FROM counters ORDER BY client');
    return { entries, counters };
  };

  /** Asserts the rows are exactly `expected` ids, once each, each client's in seq order, with matching counters. */
  const expectExactlyOnce = (rows: { entries: EntryRow[]; counters: Array<{ client: string; applied: number }> }, expected: Iterable<Issued>) => {
    const want = [...expected];
    const seen = new Map<string, number>();
    for (const row of rows.entries) seen.set(row.id, (seen.get(row.id) ?? 0) + 1);
    const duplicates = [...seen].filter(([, count]) => count > 1).map(([id, count]) => `${id} x${count}`);
    const missing = want.filter((m) => !seen.has(m.id)).map((m) => m.id);
    const unexpected = [...seen.keys()].filter((id) => !want.some((m) => m.id === id));
    expect({ duplicates, missing: missing.slice(0, 20), missingCount: missing.length, unexpected: unexpected.slice(0, 20) }).toEqual({
      duplicates: [],
      missing: [],
      missingCount: 0,
      unexpected: [],
    });
    // The server applies each client's mutations in seq order.
    const byClient = new Map<string, number[]>();
    for (const row of rows.entries) byClient.set(row.client, [...(byClient.get(row.client) ?? []), row.n]);
    for (const [name, ns] of byClient) expect(ns, `${name}'s entries in commit order`).toEqual(ns.map((_, i) => i + 1));
    const perClient = new Map<string, number>();
    for (const m of want) perClient.set(m.client, (perClient.get(m.client) ?? 0) + 1);
    expect(rows.counters).toEqual([...perClient].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, applied]) => ({ client: name, applied })));
  };

  test('8 random SIGKILLs while 3 clients stream appends: every confirmed append survives exactly once, pending ones apply once after resend, all converge', async () => {
    const seed = seedFromEnv();
    const rand = seededRandom(seed);
    const KILLS = 8;
    let proc: ServerProcess = await startServerProcess({ reducers: REDUCERS, dataDir });
    const { port, url } = proc;
    const writers = ['w0', 'w1', 'w2'].map((id) => client(url, id));
    await writers[0]!.mutate.init().server;

    const log = new Map<string, Issued>();
    const confirmed = () => [...log.values()].filter((m) => m.lsn !== undefined);
    let running = true;
    // Each writer keeps up to 30 appends in flight; half carry 4 pages of padding, so the volume grows and checkpoints.
    const writing = writers.map(async (w) => {
      let n = 0;
      for (let i = 0; running && i < 1_000_000; i++) {
        if (w.status().pending >= 30) {
          await sleep(2);
          continue;
        }
        append(w, log, ++n, rand.chance(0.6) ? 16_000 : 0);
        if (rand.chance(0.3)) await sleep(rand.int(4));
        else await Promise.resolve();
      }
    });

    const rounds: Array<{ confirmedBeforeKill: number; pendingAtKill: number; maxConfirmedLsn: number; welcomeLsnAfter: number; dbBytes: number }> = [];
    const pendingAtSomeKill = new Set<string>();
    try {
      for (let round = 1; round <= KILLS; round++) {
        const target = confirmed().length + 20 + rand.int(100);
        await waitFor(() => confirmed().length >= target, `round ${round}: ${target} confirmations (have ${confirmed().length}); server output:\n${proc.output()}`, 30_000);
        // A random moment with appends in flight.
        await sleep(rand.int(50));
        // What clients saw durable (they also see commits before they are durable, which a kill may lose).
        const maxSeenLsn = Math.max(...writers.map((w) => w.status().durableLsn));
        await proc.kill('SIGKILL');
        const done = confirmed();
        const maxConfirmedLsn = Math.max(0, ...done.map((m) => m.lsn!));
        const pending = [...log.values()].filter((m) => m.lsn === undefined && m.error === undefined);
        for (const m of pending) pendingAtSomeKill.add(m.id);
        // Clients keep writing offline for a moment.
        await sleep(rand.int(200));
        proc = await startServerProcess({ reducers: REDUCERS, dataDir, port });
        expect(proc.url).toBe(url);
        // Nothing acknowledged was lost: the restarted server is at least where any client saw it durable.
        const lsnAfter = await welcomeLsn(url, `probe_${round}`);
        expect(lsnAfter, `round ${round}: LSN after restart`).toBeGreaterThanOrEqual(Math.max(maxConfirmedLsn, maxSeenLsn));
        rounds.push({
          confirmedBeforeKill: done.length,
          pendingAtKill: pending.length,
          maxConfirmedLsn,
          welcomeLsnAfter: lsnAfter,
          dbBytes: statSync(join(dataDir, DOC, 'document.sqlite')).size,
        });
      }
    } finally {
      running = false;
      await Promise.all(writing);
    }

    // Every append issued, including those pending at a kill, is eventually confirmed by resends.
    await waitFor(
      () => writers.every((w) => w.status().pending === 0),
      `all writers to drain (pending ${writers.map((w) => w.status().pending).join(', ')}); server output:\n${proc.output()}`,
      30_000,
    );
    const all = [...log.values()];
    expect(all.filter((m) => m.error !== undefined).map((m) => `${m.id}: ${String(m.error)}`)).toEqual([]);
    expect(all.filter((m) => m.lsn === undefined).map((m) => m.id)).toEqual([]);
    expect(pendingAtSomeKill.size).toBeGreaterThan(0);

    // One last crash, then recover in-process on the same port so pages can be compared with the server.
    const server = await recoverInProcess(proc, port, writers);
    const rows = await readAll(server, url);
    expectExactlyOnce(rows, all);
    // Each commit LSN a client was given is one the document has reached.
    const { lsn: finalLsn } = await server.snapshot(DOC);
    expect(Math.max(...all.map((m) => m.lsn!))).toBeLessThanOrEqual(finalLsn);

    // Independent of the client: the document file itself, after a clean close.
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
    inProcess = undefined;
    const db = new Database(join(dataDir, DOC, 'document.sqlite'), { readonly: true });
    try {
      const fileRows = db.prepare('SELECT id, client, n FROM entries ORDER BY rowid').all() as EntryRow[];
      expect(fileRows).toEqual(rows.entries);
    } finally {
      db.close();
    }
    const grewPastCheckpoint = rounds.some((r) => r.dbBytes > 64 * 1024);
    console.log(
      `durability seed ${seed}: ${all.length} appends, ${pendingAtSomeKill.size} pending at some kill, final LSN ${finalLsn}, checkpointed before a kill: ${grewPastCheckpoint}\n` +
        rounds.map((r, i) => `  kill ${i + 1}: ${r.confirmedBeforeKill} confirmed, ${r.pendingAtKill} pending, max confirmed LSN ${r.maxConfirmedLsn} -> welcome LSN ${r.welcomeLsnAfter}, db file ${r.dbBytes} B`).join('\n'),
    );
  });

  test('killed the moment a client saw its 40th confirmation: a fresh client after restart reads exactly those 40', async () => {
    let proc = await startServerProcess({ reducers: REDUCERS, dataDir });
    const { port, url } = proc;
    const a = client(url, 'a');
    await a.mutate.init().server;
    const log = new Map<string, Issued>();
    const N = 40;
    const handles = Array.from({ length: N }, (_, i) => a.mutate.append({ id: `a-${i + 1}`, client: 'a', n: i + 1, padBytes: i % 3 === 0 ? 3000 : 0 }));
    for (let i = 0; i < N; i++) log.set(`a-${i + 1}`, { id: `a-${i + 1}`, client: 'a', n: i + 1 });
    const lsns = await Promise.all(handles.map((h) => h.server));
    // No graceful anything: the process dies right after the last acknowledgement.
    const killed = proc.kill('SIGKILL');
    a.disconnect();
    await killed;
    const lastLsn = Math.max(...lsns.map((r) => r.lsn));

    proc = await startServerProcess({ reducers: REDUCERS, dataDir, port });
    expect(await welcomeLsn(url, 'probe')).toBe(lastLsn);
    expectExactlyOnce(await readAll(await recoverInProcess(proc, port), url), log.values());
  });

  test('killed after 50 of 200 pipelined appends were confirmed: the restarted server holds a prefix including all 50; after resend, all 200 exactly once', async () => {
    let proc = await startServerProcess({ reducers: REDUCERS, dataDir });
    const { port, url } = proc;
    const a = client(url, 'a');
    await a.mutate.init().server;
    const log = new Map<string, Issued>();
    const TOTAL = 200;
    const KILL_AT = 50;
    let killed: Promise<unknown> | undefined;
    let confirmedAtKill = 0;
    let confirmedCount = 0;
    // The kill happens in the very callback that sees the 50th confirmation.
    const onConfirmed = () => {
      if (++confirmedCount < KILL_AT || killed) return;
      confirmedAtKill = confirmedCount;
      killed = proc.kill('SIGKILL');
      a.disconnect();
    };
    // Issued a couple at a time, so they land in many commits; issuing goes on offline after the kill.
    // Until the kill, at most WINDOW ahead of the confirmations: a server that
    // lost its core (or a slow fsync) while all 200 were issued confirmed them
    // in one commit, so all 200 were confirmed at the kill, and none was left to resend.
    const WINDOW = 100;
    for (let n = 1; n <= TOTAL; n++) {
      if (!killed && n - confirmedCount > WINDOW) await waitFor(() => killed !== undefined || n - confirmedCount <= WINDOW, `confirmations to catch up with append ${n} (have ${confirmedCount})`);
      append(a, log, n, n % 4 === 0 ? 3000 : 0, onConfirmed);
      if (n % 2 === 0) await sleep(2);
    }
    await waitFor(() => killed !== undefined, `${KILL_AT} confirmations (have ${confirmedCount})`);
    await killed;
    const confirmedIds = new Set([...log.values()].filter((m) => m.lsn !== undefined).map((m) => m.id));
    expect(confirmedIds.size).toBeGreaterThanOrEqual(50);
    expect(confirmedIds.size).toBeLessThan(TOTAL);

    // Restart and read what survived, before `a` resends anything.
    proc = await startServerProcess({ reducers: REDUCERS, dataDir, port });
    const reader = client(url, 'fresh');
    await waitFor(() => reader.status().lsn > 0, 'the fresh client to get a snapshot');
    const survived = await reader.query<EntryRow>('SELECT id, client, n FROM entries ORDER BY rowid');
    // A prefix of a's appends, at least every confirmed one, none twice.
    expect(survived.map((r) => r.n)).toEqual(survived.map((_, i) => i + 1));
    expect(survived.length).toBeGreaterThanOrEqual(confirmedIds.size);
    for (const id of confirmedIds) expect(survived.some((r) => r.id === id), `${id} was confirmed`).toBe(true);

    a.connect();
    await waitFor(() => a.status().pending === 0, `a to resend and drain (pending ${a.status().pending})`);
    expect([...log.values()].filter((m) => m.lsn === undefined || m.error)).toEqual([]);
    expectExactlyOnce(await readAll(await recoverInProcess(proc, port, [a]), url), log.values());
    console.log(`kill after ${confirmedAtKill} confirmations: ${confirmedIds.size} confirmed, ${survived.length} survived, then all ${TOTAL} applied once`);
  });
  // --workers 2: the documents live on worker threads, and every worker drains before the process exits.
  test.each(['1', '2'])('SIGTERM closes the documents cleanly (exit 0) while appends are in flight; after a restart every append applies exactly once (--workers %s)', async (workers) => {
    let proc = await startServerProcess({ reducers: REDUCERS, dataDir, args: ['--workers', workers] });
    const { port, url } = proc;
    const a = client(url, 'a');
    await a.mutate.init().server;
    const log = new Map<string, Issued>();
    let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
    let confirmedCount = 0;
    for (let n = 1; n <= 100; n++) {
      append(a, log, n, n % 3 === 0 ? 3000 : 0, () => {
        if (++confirmedCount === 10) stopping = proc.kill('SIGTERM');
      });
      if (n % 5 === 0) await sleep(1);
    }
    await waitFor(() => stopping !== undefined, `10 confirmations (have ${confirmedCount})`);
    const exit = await stopping!;
    expect(exit, `exit of a SIGTERMed server; output:\n${proc.output()}`).toEqual({ code: 0, signal: null });
    expect(proc.output()).toContain('SIGTERM: draining before exit');
    expect(proc.output()).toMatch(/drained in \d+ ms: 1 document\(s\) closed/);
    // A clean close checkpoints: the commits are in the db file, and no WAL is left to recover.
    const wal = join(dataDir, DOC, 'document.sqlite-wal');
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
    expect(statSync(join(dataDir, DOC, 'document.sqlite')).size).toBeGreaterThan(8192);

    proc = await startServerProcess({ reducers: REDUCERS, dataDir, port, args: ['--workers', workers] });
    await waitFor(() => a.status().pending === 0, `a to resend and drain after the restart (status ${JSON.stringify(a.status())})`);
    expect([...log.values()].filter((m) => m.lsn === undefined || m.error !== undefined).map((m) => m.id)).toEqual([]);
    expectExactlyOnce(await readAll(await recoverInProcess(proc, port, [a]), url), log.values());
  });
  test('rejections survive a crash: reported after a restart with the app\'s own error code, and nothing of them applied', async () => {
    let proc = await startServerProcess({ reducers: REDUCERS, dataDir });
    const { port, url } = proc;
    const a = client(url, 'a');
    await a.mutate.init().server;
    // Through the client API: the reducer's QuireError code reaches the caller.
    await expect(a.mutate.closeLedger({ reason: 'audit' }).server).rejects.toMatchObject({ code: 'ledger_closed', reducer: 'closeLedger' });

    const raw = await openRaw(url, DOC);
    await raw.hello('r');
    const from = raw.received.length;
    raw.send({
      type: 'push',
      mutations: [
        { seq: 1, name: 'append', args: JSON.stringify({ json: { id: 'r-1', client: 'r', n: 1, padBytes: 0 } }) },
        { seq: 2, name: 'closeLedger', args: JSON.stringify({ json: { reason: 'raw' } }) },
        { seq: 3, name: 'append', args: JSON.stringify({ json: { id: 'r-3', client: 'r', n: 'three', padBytes: 0 } }) },
      ],
    });
    await waitFor(
      () => raw.received.slice(from).some((m) => m.type === 'rejections' && m.rejections.some((r) => r.clientId === 'r' && r.seq === 3)),
      'the commit that settles seq 3',
    );
    await raw.close();
    // The rejections are durable: crash, restart, and reconnect with seq 2 as the oldest pending.
    await proc.kill('SIGKILL');
    proc = await startServerProcess({ reducers: REDUCERS, dataDir, port });
    const again = await openRaw(url, DOC);
    await again.hello('r', { fromSeq: 2 });
    // They come back in the welcome, which carries the rejections from fromSeq on.
    await waitFor(() => again.received.some((m) => m.type === 'welcome'), 'the welcome');
    const rejections = again.received.flatMap((m) => (m.type === 'welcome' || m.type === 'rejections' ? m.rejections : []));
    expect(rejections.map(({ clientId, seq, code }) => ({ clientId, seq, code }))).toEqual([
      { clientId: 'r', seq: 2, code: 'ledger_closed' },
      { clientId: 'r', seq: 3, code: 'invalid_args' },
    ]);
    await again.close();

    const rows = await readAll(await recoverInProcess(proc, port), url);
    expect(rows.entries).toEqual([{ id: 'r-1', client: 'r', n: 1 }]);
    expect(rows.counters).toEqual([{ client: 'r', applied: 1 }]);
  });
});
