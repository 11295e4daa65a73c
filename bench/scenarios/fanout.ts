import { startFleet } from '../lib/fleet.js';
import { type BenchResult, result } from '../lib/result.js';
import { type ServerChild, startQuireServer, startYjsServer, withServer } from '../lib/servers.js';
import { median, percentile, quireClient, ready, todoId, todoRange, todoTitle, wallClock } from '../lib/setup.js';
import { addTodo, yjsClient } from '../lib/yjs.js';

export interface FanoutOptions {
  clients: number;
  /** Client child processes the clients are spread over. */
  processes: number;
  /** Measured mutations (after two for warm-up). */
  mutations: number;
  log: (line: string) => void;
}

const EXISTING = 20;

/**
 * One client adds a todo; the time until each of 1,000 subscribed clients
 * (in child processes) has it in its live view. Reported: the p99 over all
 * (client, mutation) pairs, and the median over mutations of the time until
 * the last client had it. Yjs runs the same with 1,000 providers observing
 * the todos map, as the baseline: on this machine the clients share its
 * cores, so the baseline shows what the hardware allows.
 */
export async function fanout(options: FanoutOptions): Promise<BenchResult[]> {
  const quire = await withServer(startQuireServer, (server) =>
    measure(server, 'quire', options, async () => {
      const writer = quireClient(server.url, 'fanout');
      await ready(writer);
      return { add: (i) => void writer.mutate.addTodo({ id: todoId(i, 'f'), title: todoTitle(i) }), close: () => writer.close() };
    }),
  );
  const yjs = await withServer(startYjsServer, (server) =>
    measure(server, 'yjs', options, async () => {
      const writer = yjsClient(server.url, 'fanout');
      await writer.synced;
      return { add: (i) => addTodo(writer.doc, todoId(i, 'f'), todoTitle(i)), close: async () => writer.close() };
    }),
  );
  return [result('fanout_1000_p99_ms', quire.p99, 'ms', yjs.p99), result('fanout_1000_last_ms', quire.last, 'ms', yjs.last)];
}

async function measure(
  server: ServerChild,
  kind: 'quire' | 'yjs',
  options: FanoutOptions,
  openWriter: () => Promise<{ add(i: number): void; close(): Promise<unknown> }>,
): Promise<{ p99: number; last: number }> {
  await server.seed('fanout', todoRange(0, EXISTING));
  const fleet = await startFleet({ kind, url: server.url, docs: Array(options.clients).fill('fanout'), processes: options.processes, watch: true });
  options.log(`${kind}: ${options.clients} clients in ${options.processes} processes connected in ${Math.round(fleet.openMs)} ms; clock error ≤ ${fleet.clockErrorMs.toFixed(3)} ms`);
  const writer = await openWriter();
  try {
    const latencies: number[] = [];
    const lasts: number[] = [];
    const firsts: number[] = [];
    const warmUp = 2;
    for (let m = 0; m < warmUp + options.mutations; m++) {
      await fleet.arm(EXISTING + m + 1);
      const start = wallClock();
      writer.add(m);
      const times = (await fleet.collect()).map((t) => t - start);
      if (m < warmUp) continue;
      latencies.push(...times);
      lasts.push(Math.max(...times));
      firsts.push(Math.min(...times));
    }
    options.log(`${kind}: first client (median) ${round(median(firsts))} ms, all clients p50 ${round(median(latencies))} ms, p99 ${round(percentile(latencies, 99))} ms, last (median) ${round(median(lasts))} ms`);
    return { p99: percentile(latencies, 99), last: median(lasts) };
  } finally {
    await writer.close();
    await fleet.close();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
