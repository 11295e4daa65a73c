import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { QuireClient } from '@quire/core';
import { ClientPool, withSeed, within } from '../helpers/client-pool.js';
import { seedFromEnv, seededRandom } from '../helpers/seeded-random.js';
import { CutProxy, type Direction } from '../helpers/cut-proxy.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

const CLIENTS = 3;
const PER_CLIENT = 200;
const COUNTERS = ['c0', 'c1', 'c2', 'c3', 'c4'];
const MIN_CUTS = 30;
const MIN_MID_CHUNK_CUTS = 10;
const MIN_DROPS_PER_CLIENT = 5;
const MAX_CUTS = 60;
/** Rounds after the planned stream, to gather cuts a slow machine did not give. */
const MAX_EXTRA_ROUNDS = 2_000;

interface Streamer {
  client: QuireClient<TodoReducers>;
  issued: number;
  /** `server` promises resolved so far (they settle in seq order). */
  confirmed: number;
  /** Times its connection (open or still handshaking) went down. */
  drops: number;
  /** Times it got back to `connected` after being connected. */
  reconnects: number;
  errors: string[];
  handles: Array<Promise<{ lsn: number }>>;
}

describe('exactly once through a connection-cutting proxy', () => {
  let h: Harness<TodoReducers>;
  let proxy: CutProxy;
  let pool: ClientPool<TodoReducers>;
  beforeEach(async () => {
    h = await startHarness(todoReducers);
    proxy = await CutProxy.start(h.url);
    pool = new ClientPool(todoReducers, proxy.url);
  });
  afterEach(async () => {
    await pool.close();
    await proxy.close();
    await h.close();
  });

  test(`${CLIENTS} clients × ${PER_CLIENT} increments, ≥${MIN_CUTS} cuts (some mid-frame): every increment counted exactly once`, async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const rnd = seededRandom(seed);
      const server = h.server;
      const lastSeqs = async (): Promise<Map<string, number>> => {
        const { results } = await serverQuery(server, 'doc', ['SELECT client_id, last_seq FROM __quire_clients']);
        return new Map(results[0]!.map((r) => [r.client_id as string, r.last_seq as number]));
      };

      const setup = h.client();
      await setup.mutate.initCounters().server;

      const streamers: Streamer[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const client = pool.client({ clientId: `streamer-${i}` });
        const s: Streamer = { client, issued: 0, confirmed: 0, drops: 0, reconnects: 0, errors: [], handles: [] };
        let wasConnected = false;
        let last = client.status().connection;
        client.subscribeStatus((status) => {
          if (status.connection === 'offline' && last !== 'offline') s.drops++;
          last = status.connection;
          if (status.connection === 'connected') wasConnected = true;
          if (status.connection === 'connecting' && wasConnected) {
            wasConnected = false;
            s.reconnects++;
            onReconnect(s);
          }
          const code = status.lastError?.code;
          if (code && s.errors.at(-1) !== code) s.errors.push(code);
        });
        streamers.push(s);
      }
      await waitFor(() => streamers.every((s) => s.client.status().connection === 'connected'), 'streamers to connect');

      // Evidence that resends really happened: at each cut, what the server
      // had applied per client, against what the client had heard back when
      // it reconnected. Anything applied but unheard is resent after the
      // reconnect (the client resends every pending mutation).
      let serverAtCut: Promise<Map<string, number>> = Promise.resolve(new Map());
      let unheardApplied = 0;
      const pendingChecks: Array<Promise<void>> = [];
      function onReconnect(s: Streamer): void {
        const confirmedNow = s.confirmed;
        pendingChecks.push(
          serverAtCut.then((seqs) => {
            unheardApplied += Math.max(0, (seqs.get(s.client.clientId) ?? 0) - confirmedNow);
          }),
        );
      }
      const noteCut = () => {
        serverAtCut = lastSeqs();
      };

      const sent = new Map<string, number>(COUNTERS.map((id) => [id, 0]));
      const issue = (s: Streamer) => {
        const id = rnd.pick(COUNTERS);
        const handle = s.client.mutate.increment({ id });
        sent.set(id, sent.get(id)! + 1);
        s.issued++;
        s.handles.push(handle.server);
        void handle.server.then(() => s.confirmed++);
        return handle;
      };

      let armed: Promise<boolean> | undefined;
      const kinds: Record<'now' | Direction | 'handshake', number> = { now: 0, up: 0, down: 0, handshake: 0 };
      let rounds = 0;
      let extraRounds = 0;
      // How many cuts land mid-frame, and whom they hit, depends on timing.
      // So the stream runs on, cutting mid-frame only, until it has the
      // evidence the assertions below ask for.
      const enoughCuts = () =>
        proxy.cuts >= MIN_CUTS &&
        proxy.midChunkCuts >= MIN_MID_CHUNK_CUTS &&
        streamers.every((s) => s.drops >= MIN_DROPS_PER_CLIENT);
      const started = Date.now();
      while ((streamers.some((s) => s.issued < PER_CLIENT) || !enoughCuts()) && extraRounds < MAX_EXTRA_ROUNDS) {
        rounds++;
        const extra = streamers.every((s) => s.issued >= PER_CLIENT);
        if (extra) extraRounds++;
        // Keep the cuts ahead of the stream, so they are spread over all of
        // it: a client may only issue while the cut count is on schedule.
        const issuedTotal = streamers.reduce((n, s) => n + s.issued, 0);
        const onSchedule = extra || issuedTotal < ((proxy.cuts + 1) * CLIENTS * PER_CLIENT) / (MIN_CUTS + 5);
        if (!onSchedule && armed) {
          // An armed cut waits for traffic that may be slow to come: cut now instead.
          proxy.disarm();
          await armed;
        }
        // A small burst from each client; sometimes wait for the local apply.
        for (const s of onSchedule ? streamers : []) {
          const burst = 1 + rnd.int(2);
          for (let k = 0; k < burst && (extra || s.issued < PER_CLIENT); k++) {
            const handle = issue(s);
            if (rnd.chance(0.1)) await handle.local;
          }
        }
        await new Promise((r) => setTimeout(r, rnd.int(3)));
        if (armed || (proxy.cuts >= MAX_CUTS && !extra)) continue;

        const kind = extra
          ? rnd.pick(['up', 'down', 'handshake'] as const)
          : onSchedule
            ? rnd.pick(['now', 'up', 'down', 'down', 'handshake'] as const)
            : 'now';
        if (kind !== 'handshake') {
          // Cut live connections only, so every cut counts.
          await waitFor(() => proxy.live > 0, 'a live connection to cut', 10_000);
        }
        kinds[kind]++;
        if (kind === 'now') {
          if (proxy.cut() > 0) noteCut();
          continue;
        }
        // Mid-frame: let a random number of bytes through, then cut. Pushes
        // are tens of bytes per mutation, commits (page deltas, deflated) a
        // few hundred, a catch-up after a reconnect a few KiB; a handshake
        // cut drops everything, then tears the next connection's upgrade
        // request or hello.
        if (kind === 'handshake' && proxy.cut() > 0) noteCut();
        const direction: Direction = kind === 'down' ? 'down' : 'up';
        const afterBytes = kind === 'down' ? rnd.int(600) : kind === 'up' ? rnd.int(400) : rnd.int(250);
        armed = proxy.cutAfter(direction, afterBytes).then((cut) => {
          if (cut) noteCut();
          armed = undefined;
          return cut;
        });
      }
      const streamMs = Date.now() - started;
      proxy.disarm();
      await armed;

      const all = streamers.flatMap((s) => s.handles);
      const issuedTotal = streamers.reduce((n, s) => n + s.issued, 0);
      expect(all).toHaveLength(issuedTotal);
      expect(issuedTotal).toBeGreaterThanOrEqual(CLIENTS * PER_CLIENT);
      // Every increment is eventually confirmed — none rejected, none lost.
      await within(Promise.all(all), 60_000, () => `all server promises (${streamers.map((s) => `${s.client.clientId}: ${s.confirmed}/${s.issued}`).join(', ')})`);
      await Promise.all(pendingChecks);

      for (const s of [...streamers.map((x) => x.client), setup]) await waitForSettled(s, server);
      for (const s of [...streamers.map((x) => x.client), setup]) await expectSamePages(s, server);

      // Each counter equals exactly the increments sent to it: no loss, no double apply.
      const expected = COUNTERS.filter((id) => sent.get(id)! > 0).map((id) => ({ id, n: sent.get(id)! }));
      const { results } = await serverQuery(server, 'doc', ['SELECT id, n FROM counters ORDER BY id']);
      expect(results[0]).toEqual(expected);
      expect(expected.reduce((sum, r) => sum + r.n, 0)).toBe(issuedTotal);
      for (const s of streamers) expect(await s.client.query('SELECT id, n FROM counters ORDER BY id')).toEqual(expected);
      const seqs = await lastSeqs();
      for (const s of streamers) expect(seqs.get(s.client.clientId), `last_seq of ${s.client.clientId}`).toBe(s.issued);

      // The cuts really happened, mid-frame too, and every client lived through some.
      const report = {
        seed,
        streamMs,
        rounds,
        extraRounds,
        issued: streamers.map((s) => s.issued),
        cuts: proxy.cuts,
        midChunkCuts: proxy.midChunkCuts,
        kinds,
        connections: proxy.accepted,
        drops: streamers.map((s) => s.drops),
        reconnects: streamers.map((s) => s.reconnects),
        unheardApplied,
        errors: streamers.map((s) => s.errors),
        bytes: proxy.bytes,
      };
      console.log('exactly-once run', JSON.stringify(report));
      expect(proxy.cuts).toBeGreaterThanOrEqual(MIN_CUTS);
      expect(proxy.midChunkCuts).toBeGreaterThanOrEqual(MIN_MID_CHUNK_CUTS);
      for (const s of streamers) expect(s.drops, `dropped connections of ${s.client.clientId}`).toBeGreaterThanOrEqual(MIN_DROPS_PER_CLIENT);
      expect(streamers.reduce((n, s) => n + s.reconnects, 0)).toBeGreaterThanOrEqual(MIN_CUTS / 2);
      // Mutations the server applied but whose acknowledgement the cut swallowed were resent.
      expect(unheardApplied).toBeGreaterThan(0);
      // Resending never tripped the server's gap check. (Cuts close sockets:
      // close_*, or server_unreachable when one lands before the upgrade.)
      const transport = (code: string) => code.startsWith('close_') || code === 'server_unreachable';
      for (const s of streamers) expect(s.errors.filter((code) => !transport(code))).toEqual([]);
    });
  });
});
