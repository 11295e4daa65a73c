import { availableParallelism } from 'node:os';
import { startFleet } from '../lib/fleet.js';
import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, withServer } from '../lib/servers.js';
import { timedLoad } from '../lib/timed-load.js';

export interface AllCoresOptions {
  /** Documents, one client each. */
  documents: number;
  /** Client child processes the clients are spread over. */
  processes: number;
  /** Measured mutations per client (after a warm-up). */
  perClient: number;
  /** Mutations each client keeps in flight. */
  window: number;
  log: (line: string) => void;
}

/**
 * The same load on many documents, served by one worker thread per core
 * and then by the main thread alone: confirmed mutations per second. The
 * all-cores figure's baseline is the one-thread figure of the same run.
 */
export async function coordinatorAllCores(options: AllCoresOptions): Promise<BenchResult[]> {
  const cores = availableParallelism();
  const allCores = await measure(cores, options);
  const oneThread = await measure(1, options);
  return [
    result('coordinator_mutations_per_s_all_cores', allCores, 'mutations/s', oneThread),
    result('coordinator_mutations_per_s_one_thread', oneThread, 'mutations/s'),
  ];
}

async function measure(workers: number, options: AllCoresOptions): Promise<number> {
  return withServer(
    () => startQuireServer('todo', { workers }),
    async (server) => {
      const docs = Array.from({ length: options.documents }, (_, i) => `many-${i}`);
      for (const docId of docs) await server.seed(docId, []);
      const fleet = await startFleet({ kind: 'quire', url: server.url, docs, processes: options.processes, watch: false });
      try {
        await fleet.all('load', { count: 10, window: options.window, tag: 'w' }, 600_000);
        const { ms, serverCpuMs, clientCpu } = await timedLoad(server, fleet, options.perClient, options.window);
        const total = options.documents * options.perClient;
        const perSecond = (total / ms) * 1000;
        options.log(
          `${workers === 1 ? 'one thread' : `${workers} workers`}: ${total} mutations on ${options.documents} documents in ${Math.round(ms)} ms, ${Math.round(perSecond)}/s; CPU: server process ${Math.round((serverCpuMs / ms) * 100)}%, client processes ${clientCpu} (of one core each)`,
        );
        return perSecond;
      } finally {
        await fleet.close();
      }
    },
  );
}
