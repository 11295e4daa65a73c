import { startFleet } from '../lib/fleet.js';
import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, withServer } from '../lib/servers.js';
import { percentile, quireClient, ready, todoId, todoTitle } from '../lib/setup.js';

/** Other clients on the document, in a fleet process. */
const PEERS = 200;
/** How often each of them sets its presence (the client sends at most 20 a second of it, the latest). */
const SETS_PER_SECOND = 30;
/** The load stops by itself after this long, whatever happens to the bench. */
const LOAD_CAP_MS = 10 * 60_000;
/** Samples alternate between quiet and loaded in this many blocks each, so drift (JIT, a busy machine) falls on both. */
const BLOCKS = 3;

/**
 * One client's confirm latency (`addTodo` until its `.server` promise
 * resolves, one at a time, as `confirm_p50_ms`) while {@link PEERS} other
 * clients on the same document each set presence {@link SETS_PER_SECOND}
 * times a second. Baseline: the same client with the same peers connected
 * and quiet, measured in alternating blocks of the same run.
 */
export async function presenceLoad(iterations: number, log: (line: string) => void): Promise<BenchResult[]> {
  return withServer(startQuireServer, async (server) => {
    const docId = 'presence';
    const client = quireClient(server.url, docId);
    await client.mutate.init().server;
    await ready(client);
    const fleet = await startFleet({ kind: 'quire', url: server.url, docs: Array.from({ length: PEERS }, () => docId), processes: 1, watch: false }).catch(async (error: unknown) => {
      await client.close();
      throw error;
    });
    let frames = 0;
    const stop = client.presence.subscribe(() => frames++);
    try {
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
      const loaded: number[] = [];
      const perBlock = Math.ceil(iterations / BLOCKS);
      let loadedMs = 0;
      let framesLoaded = 0;
      for (let block = 0; block < BLOCKS; block++) {
        await sample(perBlock, quiet);
        await fleet.all('presence', { perSecond: SETS_PER_SECOND, forMs: LOAD_CAP_MS });
        // Loaded once this client hears every peer, and the load flows: a few more frames since it started.
        const from = frames;
        await new Promise<void>((resolve) => {
          const check = () => client.presence.others().length >= PEERS && frames - from >= 5 && (done(), resolve());
          const done = client.presence.subscribe(check);
          check();
        });
        const framesBefore = frames;
        const start = performance.now();
        await sample(perBlock, loaded);
        loadedMs += performance.now() - start;
        framesLoaded += frames - framesBefore;
        await fleet.all('stopPresence');
      }
      const { sets, ms } = (await fleet.all<{ sets: number; ms: number }>('stopPresence'))[0]!;
      log(
        `presence: ${PEERS} peers set ${sets} states in ${(ms / 1000).toFixed(1)} s of load: ${((sets / PEERS / ms) * 1000).toFixed(1)} a second each (asked ${SETS_PER_SECOND}; less means the fleet process lacked CPU); ` +
          `the measured client got ${(framesLoaded / (loadedMs / 1000)).toFixed(1)} presence frames/s during its loaded samples (the server sends at most 20)`,
      );
      const base = percentile(quiet, 50);
      return [result('presence_mutation_p50_ms', percentile(loaded, 50), 'ms', base), result('presence_mutation_p99_ms', percentile(loaded, 99), 'ms', percentile(quiet, 99))];
    } finally {
      stop();
      await fleet.close();
      await client.close();
    }
  });
}
