import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '@quire/server';
import { chaosReducers, type ChaosReducers } from '../helpers/chaos-reducers.js';
import type { ChildEvent, ClientDigest, ClientProcessConfig, ClientStatus } from '../helpers/chaos-wire.js';
import { withSeed, within } from '../helpers/client-pool.js';
import { killAllClientProcesses, startClientProcess, type ClientProcess } from '../helpers/chaos-client-handle.js';
import { crashSchedule, type CrashRound } from '../helpers/crash-schedule.js';
import { MutationBook, SERVER_STATE_QUERIES, rowIds, serverState, type ServerState } from '../helpers/mutation-book.js';
import { digestDifferences, digestPages, type PageDigest } from '../helpers/page-digest.js';
import { openRaw } from '../helpers/raw-socket.js';
import { seedFromEnv, seededRandom } from '../helpers/seeded-random.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { fetchWireSnapshot, querySnapshot, type WireSnapshot } from '../helpers/wire-snapshot.js';

/*
 * The crash loop: `quire serve` in a child process, client processes keeping
 * it busy, and SIGKILLs at moments drawn from QUIRE_SEED. Each round kills
 * the server mid-load (sometimes again while clients are still catching up,
 * sometimes a client process too), restarts it on the same data directory
 * and port, then pauses the load and, once every client has settled, checks
 * every invariant against the server's pages. A failure names its seed and
 * keeps the data directory it happened on.
 */
const REDUCERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers/chaos-reducers.ts');
const DOC = 'chaos';
const BANK = { accounts: Array.from({ length: 8 }, (_, i) => `acct${i}`), balance: 1000 };
// Three processes of two clients each: one keeps its id and pending mutations
// in a FileStore across its process's deaths, one lives in memory and is
// replaced by a fresh client id when its process is restarted.
const PROCESSES = 3;
const ROUNDS = 20;
const QUIESCE_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Slot {
  index: number;
  incarnation: number;
  proc: ClientProcess | undefined;
  /** A restart after a SIGKILL, still starting. */
  restarting: Promise<void> | undefined;
}

interface Totals {
  serverKills: number;
  recoveryKills: number;
  clientKills: number;
  /** Mutations whose `issued` IPC message died with their process (known from the journal). */
  journalOnly: number;
  checks: number;
  pagesCompared: number;
  rowsAndMutationsChecked: number;
}

describe('chaos: the server process is SIGKILLed again and again under load from client processes', () => {
  let dataDir: string;
  let storeDir: string;
  let inProcess: SyncServer<ChaosReducers> | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-chaos-data-'));
    storeDir = mkdtempSync(join(tmpdir(), 'quire-chaos-stores-'));
  });
  afterEach(async (context) => {
    await killAllClientProcesses();
    await killAllServerProcesses();
    await inProcess?.close();
    inProcess = undefined;
    if (context.task.result?.state === 'fail') {
      // The crash state a failure came from is worth more than the disk space.
      console.error(`crash loop failed: server data kept in ${dataDir}, client stores and journals in ${storeDir}`);
      return;
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  });

  test(`${ROUNDS} rounds, ≥${ROUNDS} server SIGKILLs, ${PROCESSES} client processes: after every restart all replicas converge, nothing acknowledged is lost, nothing applies twice, rejections leave no trace, money is conserved`, async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const started = Date.now();
      const rand = seededRandom(seed);
      const schedule = crashSchedule(rand, ROUNDS, PROCESSES);
      const book = new MutationBook('insufficient_funds');
      const totals: Totals = { serverKills: 0, recoveryKills: 0, clientKills: 0, journalOnly: 0, checks: 0, pagesCompared: 0, rowsAndMutationsChecked: 0 };
      const log: string[] = [];

      let server: ServerProcess = await startServerProcess({ reducers: REDUCERS, dataDir });
      const { port, url } = server;
      const setup = createClient({ url, docId: DOC, reducers: chaosReducers, clientId: 'setup' });
      await setup.mutate.init(BANK).server;
      await setup.close();

      const journalOf = (slot: Slot) => join(storeDir, `journal-p${slot.index}-${slot.incarnation}.ndjson`);
      const configFor = (slot: Slot, paused: boolean): ClientProcessConfig => ({
        name: `p${slot.index}`,
        url,
        docId: DOC,
        incarnation: slot.incarnation,
        journalPath: journalOf(slot),
        seed,
        accounts: BANK.accounts,
        paused,
        clients: [{ clientId: `p${slot.index}-disk`, storePath: join(storeDir, `p${slot.index}-disk.quire`) }, { clientId: `p${slot.index}-mem-${slot.incarnation}` }],
      });
      const onEvent = book.onEvent.bind(book);
      const slots: Slot[] = await Promise.all(
        Array.from({ length: PROCESSES }, async (_, index) => {
          const slot: Slot = { index, incarnation: 0, proc: undefined, restarting: undefined };
          slot.proc = await startClientProcess(configFor(slot, true), onEvent);
          return slot;
        }),
      );
      const settledSlots = async () => {
        await Promise.all(slots.map((s) => s.restarting));
        return slots.map((s) => s.proc!);
      };
      const everyone = async <T>(type: 'pause' | 'resume' | 'status' | 'digest'): Promise<T[]> => (await Promise.all((await settledSlots()).map((p) => p.request<T[]>(type)))).flat();

      /** SIGKILLs a client process and starts its next incarnation on the same stores, in the background, writing at once. */
      const killClientProcess = async (index: number) => {
        const slot = slots[index]!;
        await slot.restarting;
        await slot.proc!.kill();
        totals.clientKills++;
        const before = book.stats().issued;
        for (const line of readFileSync(journalOf(slot), 'utf8').split('\n')) if (line) book.onEvent(JSON.parse(line) as ChildEvent);
        const fromJournal = book.stats().issued - before;
        totals.journalOnly += fromJournal;
        const orphaned = book.orphan(`p${index}`, slot.incarnation);
        log.push(`    client process p${index}#${slot.incarnation} SIGKILLed: ${orphaned} of its mutations unsettled, ${fromJournal} known from its journal only`);
        slot.incarnation++;
        slot.proc = undefined;
        slot.restarting = startClientProcess(configFor(slot, false), onEvent).then((proc) => {
          slot.proc = proc;
          slot.restarting = undefined;
        });
        // Awaited by the next request to the fleet; until then a failure must not count as unhandled.
        slot.restarting.catch(() => {});
      };

      /** The highest LSN any live client has seen durable: the server may never come back below it. */
      const seenLsn = async () => {
        const live = slots.filter((s) => s.proc && !s.proc.exited && !s.restarting).map((s) => s.proc!);
        const statuses = (await Promise.all(live.map((p) => p.request<ClientStatus[]>('status').catch(() => [])))).flat();
        return Math.max(0, ...statuses.map((s) => s.maxLsn));
      };

      const killServer = async () => {
        await server.kill('SIGKILL');
        const atKill = { seen: await seenLsn(), confirmed: book.maxConfirmedLsn() };
        return atKill;
      };

      const welcomeLsn = async (probeId: string) => {
        const probe = await openRaw(url, DOC);
        return probe.hello(probeId).finally(() => probe.close());
      };
      const restartServer = async (atKill: { seen: number; confirmed: number }, round: number) => {
        server = await startServerProcess({ reducers: REDUCERS, dataDir, port });
        expect(server.url).toBe(url);
        // Nothing acknowledged was lost: the restarted server is at least where any client saw it.
        const { lsn } = await within(welcomeLsn(`probe-r${round}-${server.pid}`), 15_000, () => `round ${round}: a welcome from the restarted server; server output:\n${server.output()}`);
        expect(lsn, `round ${round}: LSN after restart vs. seen ${atKill.seen}, confirmed ${atKill.confirmed}; server output:\n${server.output()}`).toBeGreaterThanOrEqual(Math.max(atKill.seen, atKill.confirmed));
        return lsn;
      };

      /** Waits until every client has settled everything and sits at the server's LSN; returns the server's pages there. */
      const quiesce = async (round: number, fetchSnapshot: () => Promise<WireSnapshot>) => {
        const deadline = Date.now() + QUIESCE_MS;
        let statuses: ClientStatus[] = [];
        for (let attempt = 0; ; attempt++) {
          statuses = await everyone<ClientStatus>('status');
          const lsns = new Set(statuses.flatMap((s) => [s.lsn, s.durableLsn]));
          const still = statuses.every((s) => s.connection === 'connected' && s.pending === 0 && s.unsettled === 0) && lsns.size === 1;
          if (still) {
            const snapshot = await within(fetchSnapshot(), 15_000, () => `round ${round}: the server's snapshot; server output:\n${server.output()}`);
            if (lsns.has(snapshot.lsn)) return { snapshot, statuses };
          }
          if (Date.now() > deadline) {
            throw new Error(`round ${round}: clients did not settle within ${QUIESCE_MS} ms: ${JSON.stringify(statuses)}\nserver output:\n${server.output()}`);
          }
          await sleep(attempt < 10 ? 20 : 100);
        }
      };

      let previous: { lsn: number; ids: Set<string> } | undefined;
      /** Every invariant, with the clients paused and settled at one LSN. */
      const checkAll = async (round: number, snapshot: WireSnapshot, statuses: ClientStatus[]): Promise<ServerState> => {
        const serverDigest: PageDigest = digestPages(snapshot.lsn, snapshot.pageCount, snapshot.pages);
        const digests = await everyone<ClientDigest>('digest');
        const violations: string[] = [];
        for (const { clientId, digest } of digests) {
          for (const d of digestDifferences(digest, serverDigest)) violations.push(`${clientId}: ${d}`);
          totals.pagesCompared += digest.pages.length;
        }
        // Monotonic reads: no client ever saw its LSN go down.
        for (const s of statuses) if (s.backwards.length > 0) violations.push(`${s.clientId} saw its durable LSN go back: ${s.backwards.join(', ')}`);
        const state = serverState(snapshot.lsn, querySnapshot(snapshot, SERVER_STATE_QUERIES));
        const { violations: broken, checked } = book.check(state, BANK, ['setup'], previous);
        violations.push(...broken);
        totals.rowsAndMutationsChecked += checked;
        totals.checks++;
        expect(violations, `round ${round}: invariants at LSN ${snapshot.lsn}\nrounds so far:\n${log.join('\n')}\nserver output:\n${server.output()}`).toEqual([]);
        previous = { lsn: state.lsn, ids: rowIds(state) };
        return state;
      };

      for (let r = 0; r < ROUNDS; r++) {
        const round: CrashRound = schedule[r]!;
        const round1 = r + 1;
        await everyone('resume');
        let clientKill: Promise<void> | undefined;
        if (round.clientKill && !round.clientKill.whileServerDown) {
          const { proc, atMs } = round.clientKill;
          clientKill = sleep(atMs).then(() => killClientProcess(proc));
          clientKill.catch(() => {});
        }
        await sleep(round.loadMs);
        await clientKill;
        let atKill = await killServer();
        totals.serverKills++;
        if (round.clientKill?.whileServerDown) await killClientProcess(round.clientKill.proc);
        await sleep(round.downMs);
        let lsnAfter = await restartServer(atKill, round1);
        if (round.recoveryKillMs !== undefined) {
          await sleep(round.recoveryKillMs);
          atKill = await killServer();
          totals.serverKills++;
          totals.recoveryKills++;
          await sleep(round.downMs);
          lsnAfter = await restartServer(atKill, round1);
        }
        await sleep(round.loadAfterMs);
        await everyone('pause');
        const { snapshot, statuses } = await quiesce(round1, () => fetchWireSnapshot(url, DOC, `check-r${round1}`));
        const state = await checkAll(round1, snapshot, statuses);
        const s = book.stats();
        log.push(
          `  round ${round1}: load ${round.loadMs} ms, down ${round.downMs} ms${round.recoveryKillMs !== undefined ? `, killed again ${round.recoveryKillMs} ms into recovery` : ''}` +
            `; welcome LSN ${lsnAfter}, settled at LSN ${snapshot.lsn}, ${snapshot.pageCount} pages; ${s.issued} issued, ${s.confirmed} confirmed, ${s.rejected} rejected, ${s.orphaned} orphaned; ${state.entries.length} entries, ${state.transfers.length} transfers`,
        );
      }

      // One last crash, recovered in this process on the same port: the
      // wire snapshot the loop checked against is the server's own, and after
      // a clean close the file on disk holds the same rows.
      const atKill = await killServer();
      totals.serverKills++;
      inProcess = createSyncServer({ reducers: chaosReducers, dataDir });
      await inProcess.listen(port, '127.0.0.1');
      const authoritative = async (): Promise<WireSnapshot> => inProcess!.snapshot(DOC);
      const { snapshot, statuses } = await quiesce(ROUNDS + 1, authoritative);
      expect(snapshot.lsn).toBeGreaterThanOrEqual(Math.max(atKill.seen, atKill.confirmed));
      const finalState = await checkAll(ROUNDS + 1, snapshot, statuses);
      await Promise.all((await settledSlots()).map((p) => p.request('close')));
      await inProcess.close();
      inProcess = undefined;
      const db = new Database(join(dataDir, DOC, 'document.sqlite'), { readonly: true });
      try {
        const onDisk = serverState(snapshot.lsn, SERVER_STATE_QUERIES.map((sql) => db.prepare(sql).all()));
        expect(onDisk).toEqual(finalState);
      } finally {
        db.close();
      }

      const s = book.stats();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `crash loop seed ${seed}: ${totals.serverKills} server SIGKILLs (${totals.recoveryKills} during recovery, 1 final), ${totals.clientKills} client process SIGKILLs; ` +
          `${s.issued} mutations issued: ${s.confirmed} confirmed, ${s.rejected} rejected (insufficient funds), ${s.orphaned} orphaned by client kills; ` +
          `${totals.checks} quiescent checks: ${totals.pagesCompared} client pages compared, ` +
          `${totals.rowsAndMutationsChecked} mutation and row checks, ${totals.journalOnly} mutations known from a dead process's journal only; final LSN ${snapshot.lsn}; ${seconds} s\n${log.join('\n')}`,
      );
      expect(totals.serverKills).toBeGreaterThanOrEqual(20);
      expect(s.rejected, 'the bank workload must exercise rejections').toBeGreaterThan(0);
    });
  }, 240_000);
});
