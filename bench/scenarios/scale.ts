import { startFleet } from '../lib/fleet.js';
import { type BenchResult, result } from '../lib/result.js';
import { type ServerChild, startQuireServer, startYjsServer, withServer } from '../lib/servers.js';
import { percentile, sleep, todoRange } from '../lib/setup.js';

export interface ScaleOptions {
  /** WebSocket connections to the one server, spread evenly over the documents. */
  connections: number;
  documents: number;
  /** Client child processes. */
  processes: number;
  /** Measured rounds (after one for warm-up); in each, one client of every document adds a todo. */
  rounds: number;
  log: (line: string) => void;
}

/** Todos each document starts with. */
const EXISTING = 5;

/** Open files the server may need: one socket per connection, and per document its SQLite files, lock and log (7 now). */
function serverFdLimit(options: ScaleOptions): number {
  return options.connections + options.documents * 8 + 1024;
}

interface Measured {
  /** Server RSS (after a full GC) with every client connected, in bytes. */
  rss: number;
  /** Propagation, writer's mutate to each other client's live view, p99 over every (client, round) pair. */
  p99: number;
  /** Server CPU time per edit over the measured rounds, in microseconds. */
  cpuPerEdit: number;
}

/**
 * One node at scale: `connections` WebSocket clients over `documents`
 * documents on one server, clients in several processes. Reported: the
 * server's RSS once all are connected, the p99 of propagation while every
 * document takes an edit at once (one client each adds a todo; the time
 * until each other client of its document has it), and the server's CPU
 * time per edit during those rounds. Yjs runs the same as the baseline.
 */
export async function scale(options: ScaleOptions): Promise<BenchResult[]> {
  const fdLimit = serverFdLimit(options);
  const quire = await withServer(() => startQuireServer('todo', { fdLimit }), (server) => measure(server, 'quire', options, fdLimit));
  const yjs = await withServer(() => startYjsServer({ fdLimit }), (server) => measure(server, 'yjs', options, fdLimit));
  const label = `${options.connections >= 1000 ? `${options.connections / 1000}k` : options.connections}`;
  return [
    result(`scale_${label}_server_rss_mb`, mb(quire.rss), 'MB', mb(yjs.rss)),
    result(`scale_${label}_propagation_p99_ms`, round(quire.p99), 'ms', round(yjs.p99)),
    result(`scale_${label}_server_cpu_us_per_edit`, Math.round(quire.cpuPerEdit), 'us', Math.round(yjs.cpuPerEdit)),
  ];
}

async function measure(server: ServerChild, kind: 'quire' | 'yjs', options: ScaleOptions, fdLimit: number): Promise<Measured> {
  const docIds = Array.from({ length: options.documents }, (_, i) => `scale-${i}`);
  const seedStart = performance.now();
  // A few at a time: each is an open, a migration and two durable commits on the server.
  for (let i = 0; i < docIds.length; i += 8) await Promise.all(docIds.slice(i, i + 8).map((docId) => server.seed(docId, todoRange(0, EXISTING))));
  const seeded = performance.now() - seedStart;
  // Client k opens document k mod documents: each document's clients spread over the processes.
  const docs = Array.from({ length: options.connections }, (_, k) => docIds[k % options.documents]!);
  const cpuBefore = await server.cpu();
  const fleet = await startFleet({ kind, url: server.url, docs, processes: options.processes, watch: true });
  try {
    const cpuConnected = await server.cpu();
    await sleep(1000);
    const memory = await server.memory();
    const clientRss = (await fleet.all<number>('rss')).reduce((a, b) => a + b, 0);
    const fds = await server.request<number | null>('fds');
    options.log(
      `${kind}: ${options.documents} documents seeded in ${Math.round(seeded)} ms; ${options.connections} clients in ${options.processes} processes connected in ${Math.round(fleet.openMs)} ms ` +
        `(server CPU ${seconds(cpu(cpuConnected) - cpu(cpuBefore))} s; ${fds ?? '?'} open files of ${fdLimit} allowed); server MB: rss ${mb(memory.rss)}, heapUsed ${mb(memory.heapUsed)}, external ${mb(memory.external)}; client processes rss ${mb(clientRss)} MB in all`,
    );
    // The writer of each document: its first client, in whichever process holds it.
    const writers: number[][] = fleet.shares.map(() => []);
    const hasWriter = new Set<string>();
    fleet.shares.forEach((share, p) =>
      share.forEach((docId, c) => {
        if (hasWriter.has(docId)) return;
        hasWriter.add(docId);
        writers[p]!.push(c);
      }),
    );
    const writerSets = writers.map((indexes) => new Set(indexes));
    const latencies: number[] = [];
    let cpuStart = await server.cpu();
    let wallStart = performance.now();
    for (let round = 0; round < options.rounds + 1; round++) {
      if (round === 1) {
        cpuStart = await server.cpu();
        wallStart = performance.now();
      }
      await fleet.arm(EXISTING + round + 1);
      const starts = await fleet.write(writers, round, 'scale');
      const startOf = new Map<string, number>();
      writers.forEach((indexes, p) => indexes.forEach((c, w) => startOf.set(fleet.shares[p]![c]!, starts[p]![w]!)));
      const reached = await fleet.collect(120_000);
      if (round === 0) continue;
      let k = 0;
      fleet.shares.forEach((share, p) =>
        share.forEach((docId, c) => {
          const at = reached[k++]!;
          if (writerSets[p]!.has(c)) return;
          latencies.push(at - startOf.get(docId)!);
        }),
      );
    }
    const cpuUs = cpu(await server.cpu()) - cpu(cpuStart);
    const wall = performance.now() - wallStart;
    const edits = options.rounds * options.documents;
    const p99 = percentile(latencies, 99);
    options.log(
      `${kind}: ${options.rounds} rounds of ${options.documents} edits (one per document at once) in ${Math.round(wall)} ms: propagation p50 ${round(percentile(latencies, 50))} ms, p99 ${round(p99)} ms over ${latencies.length} deliveries; ` +
        `server CPU ${Math.round(cpuUs / edits)} us per edit (${Math.round((cpuUs / 1000 / wall) * 100)}% of one core)`,
    );
    return { rss: memory.rss, p99, cpuPerEdit: cpuUs / edits };
  } finally {
    await fleet.close();
  }
}

const cpu = (usage: NodeJS.CpuUsage) => usage.user + usage.system;
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const seconds = (us: number) => (us / 1e6).toFixed(1);
const round = (x: number) => Math.round(x * 10) / 10;
