/**
 * The clients of the protocol fuzz test, in a process of their own so they
 * and the server each get a core. Started by ./fuzz-clients.ts with a
 * FuzzClientsConfig; reports a FuzzClientsEvent.
 */
import fc from 'fast-check';
import { episodePlan, FuzzStats, runEpisode, streamPlan, type EpisodeEnv, type EpisodePlan } from './fuzz-episode.js';
import { oversized } from './fuzz-frames.js';
import { SeqModel } from './fuzz-model.js';
import type { FuzzClientsConfig, FuzzClientsEvent, LsnUpdate } from './fuzz-wire.js';

/** A client id per episode that no edit of another episode's hello can produce. */
const episodeClientId = (prefix: string, index: number) => `${prefix}${index.toString(36)}x${(((index + 1) * 2654435761) >>> 0).toString(36)}`;

async function run(config: FuzzClientsConfig): Promise<FuzzClientsEvent> {
  let lsn = 0;
  process.on('message', (message: LsnUpdate) => {
    if (message.type === 'lsn') lsn = message.lsn;
  });
  const seqs = new SeqModel();
  const stats = new FuzzStats();
  const env: EpisodeEnv = { url: config.url, docId: config.docId, maxMessageBytes: config.maxMessageBytes, seqs, stats, lsn: () => lsn };
  const started = performance.now();

  // Plans from fast-check, so the seed replays them; made a chunk at a time, as the workers get to them.
  const CHUNK = 500;
  const chunks = new Map<number, EpisodePlan[]>();
  const episodeAt = (i: number): { id: string; plan: EpisodePlan } => {
    if (i >= config.episodes) {
      const o = i - config.episodes;
      const recipe = fc.sample(oversized(config.maxMessageBytes), { seed: config.seed + 1, numRuns: o + 1 })[o]!;
      return {
        id: episodeClientId('o', o),
        plan: { hello: true, start: 'current', waitWelcome: o % 2 === 0, steps: [{ kind: 'push', count: 2, settle: false }, { kind: 'bad', recipe }] },
      };
    }
    const chunk = Math.floor(i / CHUNK);
    let plans = chunks.get(chunk);
    if (!plans) {
      chunks.clear();
      plans = fc.sample(episodePlan, { seed: (config.seed + chunk * 7919) | 0, numRuns: Math.min(CHUNK, config.episodes - chunk * CHUNK) });
      chunks.set(chunk, plans);
    }
    return { id: episodeClientId('e', i), plan: plans[i % CHUNK]! };
  };
  const only = config.only;
  const streams = only === undefined ? Array.from({ length: config.streams }, (_, i) => streamPlan((config.seed + 2 + i * 15_485_863) | 0, config.streamSteps)) : [];

  let next = only ?? 0;
  const last = only === undefined ? config.episodes + config.oversized : only + 1;
  const worker = async () => {
    while (next < last) {
      const i = next++;
      const { id, plan } = episodeAt(i);
      await runEpisode(env, plan, id).catch((error: Error) => {
        error.message = `episode ${i} (replay it alone with QUIRE_FUZZ_ONLY=${i}): ${error.message}`;
        throw error;
      });
    }
  };
  try {
    await Promise.all([
      ...Array.from({ length: only === undefined ? config.concurrency : 1 }, worker),
      ...streams.map((plan, i) =>
        runEpisode(env, plan, episodeClientId('s', i)).catch((error: Error) => {
          error.message = `stream ${i}: ${error.message}`;
          throw error;
        }),
      ),
    ]);
  } catch (error) {
    return { type: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
  return {
    type: 'done',
    result: {
      episodes: stats.episodes,
      frames: stats.frames,
      badFrames: stats.badFrames,
      byKind: [...stats.byKind],
      byOutcome: [...stats.byOutcome],
      accepted: [...seqs.accepted()].map(([clientId, names]) => [clientId, [...names]]),
      ms: performance.now() - started,
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
    },
  };
}

run(JSON.parse(process.argv[2]!) as FuzzClientsConfig).then(
  (event) => process.send!(event, () => process.exit(0)),
  (error: unknown) => process.send!({ type: 'failed', message: `fuzz client process crashed: ${error instanceof Error ? error.stack : String(error)}` } satisfies FuzzClientsEvent, () => process.exit(1)),
);
