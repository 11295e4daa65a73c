import { type Child, startChild } from '../lib/children.js';
import { PRESENCE_INTERVAL_MS } from '@quire/core/internal';
import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, withServer } from '../lib/servers.js';
import { percentile, quireClient, ready, todoId, todoTitle } from '../lib/setup.js';

/** Other clients on the document: light peers (processes/presence-peers.ts). */
const PEERS = 200;
/** Spread over this many processes, so that sending 6,000 frames a second is not one core's work. */
const PROCESSES = 2;
/** How often each of them sets its presence: one `setPresence` frame each time (a real client sends at most 20 a second, the latest, so this is the harder load). */
const SETS_PER_SECOND = 30;
/** The load stops by itself after this long, whatever happens to the bench. */
const LOAD_CAP_MS = 10 * 60_000;
/** Samples alternate between quiet and loaded in this many blocks each, so drift (JIT, a busy machine) falls on both. */
const BLOCKS = 3;

/** User plus system CPU time, in ms. */
function used(c: NodeJS.CpuUsage): number {
  return (c.user + c.system) / 1000;
}

/** What a peer process counted over all its loads (see `stop` in processes/presence-peers.ts). */
interface PeerCounts {
  peers: number;
  sets: number;
  framesSent: number;
  skipped: number;
  loadMs: number;
  frames: number;
  bytes: number;
  presenceFrames: number;
  presenceBytes: number;
  errors: Record<string, number>;
}

/**
 * One client's confirm latency (`addTodo` until its `.server` promise
 * resolves, one at a time, as `confirm_p50_ms`) while {@link PEERS} other
 * connections on the same document each set presence {@link SETS_PER_SECOND}
 * times a second. Baseline: the same client with the same peers connected
 * and quiet, measured in alternating blocks of the same run. A third row
 * says the rate the peers reached, against the one asked.
 */
export async function presenceLoad(iterations: number, log: (line: string) => void): Promise<BenchResult[]> {
  return withServer(startQuireServer, async (server) => {
    const docId = 'presence';
    const client = quireClient(server.url, docId);
    const processes: Child[] = [];
    let frames = 0;
    const stopCounting = client.presence.subscribe(() => frames++);
    const all = <T>(type: string, args?: unknown) => Promise.all(processes.map((p) => p.request<T>(type, args)));
    try {
      await client.mutate.init().server;
      await ready(client);
      processes.push(...(await Promise.all(Array.from({ length: PROCESSES }, () => startChild('presence-peers.ts')))));
      await Promise.all(processes.map((p, i) => p.request('open', { url: server.url, docId, count: PEERS / PROCESSES, prefix: `p${i}` }, 120_000)));
      let i = 0;
      const sample = async (count: number, into: number[]) => {
        for (let k = 0; k < count; k++, i++) {
          const start = performance.now();
          await client.mutate.addTodo({ id: todoId(i, 'p'), title: todoTitle(i) }).server;
          into.push(performance.now() - start);
        }
      };
      await sample(20, []);
      const quiet: number[] = [];
      const perBlock = Math.ceil(iterations / BLOCKS);
      let quietMs = 0;
      // CPU time, in ms, over the quiet and the loaded samples: of the server, of the peer processes, and of
      // this process, whose work is mostly the measured client's (it also decodes every presence frame).
      const cpuQuiet = { server: 0, peers: 0, client: 0 };
      const cpuNow = async () => ({
        server: used(await server.cpu()),
        peers: (await all<NodeJS.CpuUsage>('cpu')).reduce((ms, c) => ms + used(c), 0),
        client: used(process.cpuUsage()),
      });
      const timed = async (into: { server: number; peers: number; client: number }, run: () => Promise<void>) => {
        const before = await cpuNow();
        const start = performance.now();
        await run();
        const ms = performance.now() - start;
        const after = await cpuNow();
        into.server += after.server - before.server;
        into.peers += after.peers - before.peers;
        into.client += after.client - before.client;
        return ms;
      };
      // Two loads: one frame per set (harder than any client), and sets coalesced as the real client sends them.
      const loads = [
        { name: 'one frame per set', row: 'presence_mutation', coalesceMs: 0 },
        { name: 'as a client sends them', row: 'presence_coalesced_mutation', coalesceMs: PRESENCE_INTERVAL_MS },
      ].map((l) => ({ ...l, samples: [] as number[], ms: 0, framesHeard: 0, cpu: { server: 0, peers: 0, client: 0 }, counts: [] as PeerCounts[] }));
      for (let block = 0; block < BLOCKS; block++) {
        quietMs += await timed(cpuQuiet, () => sample(perBlock, quiet));
        for (const l of loads) {
          await all('reset');
          await all('start', { perSecond: SETS_PER_SECOND, forMs: LOAD_CAP_MS, coalesceMs: l.coalesceMs });
          // Loaded once this client hears every peer, and the load flows: a few more frames since it started.
          const from = frames;
          await new Promise<void>((resolve) => {
            const check = () => client.presence.others().length >= PEERS && frames - from >= 5 && (done(), resolve());
            const done = client.presence.subscribe(check);
            check();
          });
          const framesBefore = frames;
          l.ms += await timed(l.cpu, () => sample(perBlock, l.samples));
          l.framesHeard += frames - framesBefore;
          l.counts.push(...(await all<PeerCounts>('stop')));
        }
      }
      const share = (ms: number, wallMs: number) => `${((ms / wallMs) * 100).toFixed(0)}%`;
      const rows: BenchResult[] = [];
      for (const l of loads) {
        const counts = l.counts;
        const sum = (pick: (c: PeerCounts) => number) => counts.reduce((total, c) => total + pick(c), 0);
        const peerSeconds = sum((c) => (c.peers * c.loadMs) / 1000);
        const perPeer = sum((c) => c.sets) / peerSeconds;
        const errors = counts.flatMap((c) => Object.entries(c.errors));
        // The server refuses sets beyond limits.maxPresenceUpdatesPerSecond: then its own bound, not this load, is what ran.
        if (errors.length > 0) throw new Error(`presence peers got errors or were closed: ${errors.map(([code, n]) => `${code} x${n}`).join(', ')}`);
        // Each peer counts what the server sent it; the server sent the same to the measured client too.
        const perPeerS = (pick: (c: PeerCounts) => number) => sum(pick) / peerSeconds;
        log(
          `presence (${l.name}): ${PEERS} peers in ${PROCESSES} processes made ${sum((c) => c.sets)} sets in ${(peerSeconds / PEERS).toFixed(1)} s of load: ${perPeer.toFixed(1)} a second each (asked ${SETS_PER_SECOND}; ` +
            `${sum((c) => c.skipped)} skipped by peers that fell behind), sent as ${perPeerS((c) => c.framesSent).toFixed(1)} frames a second each, ${(perPeerS((c) => c.framesSent) * PEERS).toFixed(0)} in all; ` +
            `the server sent each connection ${perPeerS((c) => c.presenceFrames).toFixed(1)} presence frames/s (it sends at most 20) of ${(perPeerS((c) => c.presenceBytes) / 1024).toFixed(1)} KiB/s, ` +
            `${(perPeerS((c) => c.presenceFrames) * (PEERS + 1)) | 0} frames/s and ${((perPeerS((c) => c.presenceBytes) * (PEERS + 1)) / 1024 / 1024).toFixed(1)} MiB/s to all ${PEERS + 1}; ` +
            `the measured client applied ${(l.framesHeard / (l.ms / 1000)).toFixed(1)} presence frames/s during its loaded samples; no set refused as too fast`,
        );
        log(
          `presence (${l.name}): CPU (of one core) during the quiet samples: server ${share(cpuQuiet.server, quietMs)}, measured client ${share(cpuQuiet.client, quietMs)}, peers ${share(cpuQuiet.peers, quietMs)}; ` +
            `during the loaded ones: server ${share(l.cpu.server, l.ms)}, measured client ${share(l.cpu.client, l.ms)}, peers ${share(l.cpu.peers, l.ms)} (${PROCESSES} processes together); ` +
            // What the loaded samples' mutations would have cost at the quiet cost per mutation; the rest is presence.
            `so presence cost the server about ${share(l.cpu.server - (cpuQuiet.server / quiet.length) * l.samples.length, l.ms)} of a core`,
        );
        rows.push(
          result(`${l.row}_p50_ms`, percentile(l.samples, 50), 'ms', percentile(quiet, 50)),
          result(`${l.row}_p99_ms`, percentile(l.samples, 99), 'ms', percentile(quiet, 99)),
        );
        // Below 1: the peers did not reach the rate asked, and the rows above measure a lighter load.
        if (l.coalesceMs === 0) rows.push(result('presence_sets_per_peer_per_s', perPeer, 'sets/s', SETS_PER_SECOND));
        else rows.push(result('presence_coalesced_sets_per_peer_per_s', perPeer, 'sets/s', SETS_PER_SECOND));
      }
      return rows;
    } finally {
      stopCounting();
      await Promise.all(processes.map((p) => p.request('close', undefined, 30_000).catch(() => undefined)));
      await Promise.all(processes.map((p) => p.stop()));
      await client.close();
    }
  });
}
