import { startFleet } from './fleet.js';
import { type ServerChild } from './servers.js';
import { quireClient, ready, sleep, todoRange } from './setup.js';
import { yjsClient } from './yjs.js';

/** How both RSS scenarios start both servers: with a young generation that cannot grow and shrink between the readings (see ChildOptions). */
export const STEADY_HEAP = { smallNewSpace: true } as const;

/** A document seeded and held open before the baseline RSS is read. */
export const WARM_DOC = 'warm';

/**
 * What both RSS scenarios share: server RSS (after a full GC) before and
 * after a fleet of clients connects, one client per entry of `docs`. Every
 * document but WARM_DOC is created (seeded) after the baseline.
 */
export async function serverRssDelta(
  server: ServerChild,
  kind: 'quire' | 'yjs',
  options: { docs: string[]; processes: number; todos: number; log: (line: string) => void },
): Promise<number> {
  // A document opened and held first, so code loading, the first SQLite
  // handle and other one-time costs land before the baseline.
  await server.seed(WARM_DOC, todoRange(0, options.todos));
  const holder = kind === 'quire' ? quireClient(server.url, WARM_DOC) : yjsClient(server.url, WARM_DOC);
  await ('synced' in holder ? holder.synced : ready(holder));
  await sleep(300);
  const before = await server.memory();
  for (const docId of new Set(options.docs)) if (docId !== WARM_DOC) await server.seed(docId, todoRange(0, options.todos));
  const fleet = await startFleet({ kind, url: server.url, docs: options.docs, processes: options.processes, watch: false });
  try {
    // Idle: let the welcome traffic drain before reading the RSS.
    await sleep(1000);
    const after = await server.memory();
    // RSS is the measure; the heap figures tell live JS objects from memory the allocators kept.
    const delta = (key: keyof NodeJS.MemoryUsage) => `${key} ${mb(after[key] - before[key])}`;
    options.log(
      `${kind}: ${options.docs.length} clients on ${new Set(options.docs).size} documents (connected in ${Math.round(fleet.openMs)} ms); ` +
        `server MB: rss ${mb(before.rss)} → ${mb(after.rss)}; deltas ${delta('heapTotal')}, ${delta('heapUsed')}, ${delta('external')}, ${delta('arrayBuffers')}`,
    );
    return after.rss - before.rss;
  } finally {
    await fleet.close();
    await holder.close();
  }
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
