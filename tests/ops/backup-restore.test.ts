import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { LEDGER_REDUCERS_FILE, type LedgerReducers, ledgerReducers } from '../helpers/ledger-reducers.js';
import { type LedgerWriters, startLedgerWriters } from '../helpers/ledger-writers.js';
import { runQuire } from '../helpers/quire-command.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { scratchDirs } from '../helpers/scratch-dirs.js';
import { waitFor } from '../helpers/wait-for.js';

/*
 * `quire backup` of a data directory while a real server runs and clients
 * write, `quire restore` into a fresh directory, and a server on it: every
 * commit up to the LSN the backup printed is there, and nothing after it.
 * Clients that had seen more than the backup holds (their later calls
 * confirmed by the old server) reconnect to the restored one by themselves:
 * they take its lower LSN for a restore, not for corruption, and go on.
 */
const DOC = 'ledger';
const scratch = scratchDirs();
afterEach(() => killAllServerProcesses());

const ids = async (c: QuireClient<LedgerReducers>) => (await c.query<{ id: string }>('SELECT id FROM entries ORDER BY rowid')).map((r) => r.id);

test('backup mid-stream, restore into a fresh directory: a server there holds every commit up to the backup LSN; old and fresh clients reconnect and go on', async () => {
  const dataDir = scratch.make('backup-live');
  const dest = join(scratch.make('backup-dest'), 'nightly');
  const restored = join(scratch.make('restore'), 'data');
  const first = await startServerProcess({ reducers: LEDGER_REDUCERS_FILE, dataDir, args: ['--log-level', 'info'] });
  const clients = ['a', 'b'].map((clientId) => createClient({ url: first.url, docId: DOC, reducers: ledgerReducers, clientId }));
  let writers: LedgerWriters | undefined;
  let second: ServerProcess | undefined;
  let fresh: QuireClient<LedgerReducers> | undefined;
  try {
    await clients[0]!.mutate.init().server;
    writers = startLedgerWriters(clients);
    const { confirmed, failures } = writers;
    await waitFor(() => confirmed.size >= 40, 'calls confirmed before the backup');

    const run = await runQuire(['backup', dataDir, dest]);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const backupLsn = Number(/^ledger: LSN (\d+) /m.exec(run.stdout)?.[1]);
    expect(run.stdout).toContain(`backed up 1 document(s) to ${dest}`);
    // The clients write on after it: the old server goes past the backup.
    await waitFor(() => [...confirmed.values()].filter((lsn) => lsn > backupLsn).length >= 20, 'calls confirmed after the backup');
    await writers.stop();
    await Promise.all(clients.map((c) => c.synced()));
    expect(failures).toEqual([]);
    const inBackup = writers.issued.filter((id) => confirmed.get(id)! <= backupLsn);
    expect(inBackup.length).toBeGreaterThanOrEqual(40);
    const seenBeyond = Math.max(...clients.map((c) => c.status().lsn));
    expect(seenBeyond).toBeGreaterThan(backupLsn);

    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const restore = await runQuire(['restore', dest, restored]);
    expect(restore, restore.stderr).toMatchObject({ code: 0 });
    expect(restore.stdout).toContain(`ledger: restored at LSN ${backupLsn}`);
    second = await startServerProcess({ reducers: LEDGER_REDUCERS_FILE, dataDir: restored, port: first.port, args: ['--log-level', 'info'] });

    // A fresh client sees the document at the backup's LSN: every row up to it, none after.
    fresh = createClient({ url: second.url, docId: DOC, reducers: ledgerReducers, clientId: 'fresh' });
    await waitFor(() => fresh!.status().connection === 'connected' && fresh!.status().lsn === backupLsn, `the fresh client at LSN ${backupLsn} (${JSON.stringify(fresh!.status())})`);
    expect((await ids(fresh)).sort()).toEqual([...inBackup].sort());
    expect(second.output()).toMatch(/volume rebuilt from the commit log/);

    // The old clients had seen up to seenBeyond: they reconnect by themselves, are sent the restored
    // document whole, and write on. What the old server confirmed after the backup is gone with it.
    await waitFor(() => clients.every((c) => c.status().connection === 'connected' && c.status().lsn === backupLsn), `old clients back at the backup's LSN (${JSON.stringify(clients.map((c) => c.status()))})`);
    const after = await Promise.all(clients.map((c, i) => c.mutate.append({ id: `${c.clientId}-after`, client: c.clientId, n: 10_000 + i, padBytes: 0 }).server));
    // One commit each, or one for both when their resends reach the server in the same turn (group commit).
    const last = Math.max(...after.map((r) => r.lsn));
    expect(after.every((r) => r.lsn > backupLsn) && [backupLsn + 1, backupLsn + 2].includes(last), JSON.stringify(after)).toBe(true);
    await waitFor(() => [...clients, fresh!].every((c) => c.status().lsn === last), 'every client at the last commit');
    const views = await Promise.all([...clients, fresh].map(ids));
    for (const view of views) expect([...view].sort()).toEqual([...inBackup, 'a-after', 'b-after'].sort());
    // With nothing pending their hello could not tell; their first new call could (its seq is past what the
    // restored document has): the server said so, and took their calls from there on.
    for (const c of clients) expect(second.output()).toContain(`lost commits: client \\"${c.clientId}\\" was told its mutations up to seq`);
  } catch (error) {
    console.log(`--- first server\n${first.output().slice(-5000)}\n--- restored server\n${second?.output().slice(-5000)}`);
    throw error;
  } finally {
    await writers?.stop();
    await Promise.all([...clients, ...(fresh ? [fresh] : [])].map((c) => c.close()));
  }
}, 180_000);
