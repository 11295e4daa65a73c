import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeMessage } from '@quire/core/protocol';
import { Canary } from '../helpers/canary.js';
import { withSeed } from '../helpers/client-pool.js';
import { runFuzzClients } from '../helpers/fuzz-clients.js';
import { brokenWebSocketFraming, helloFrame } from '../helpers/fuzz-frames.js';
import { RejectionObserver } from '../helpers/fuzz-observer.js';
import { FUZZ_REJECTION_CODES, fuzzReducers, type FuzzReducers } from '../helpers/fuzz-reducers.js';
import { guardProcess, type ProcessGuard } from '../helpers/process-guard.js';
import { openRawWebSocket, webSocketFrame } from '../helpers/raw-websocket-frames.js';
import { seedFromEnv } from '../helpers/seeded-random.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';

const MAX_MESSAGE_BYTES = 64 * 1024;
// Sized for about two minutes on a 2-core machine. QUIRE_FUZZ_SCALE=0.1 for a quick run, 10 for a long one;
// QUIRE_SEED=<seed> replays a run, QUIRE_FUZZ_ONLY=<episode> one episode of it.
const SCALE = Number(process.env.QUIRE_FUZZ_SCALE ?? 1);
/** Short sessions around one or more bad frames, most ending in a fatal one. */
const EPISODES = Math.round(16_000 * SCALE);
/** Long sessions that survive thousands of bad frames each. */
const STREAMS = 16;
const STREAM_STEPS = Math.round(6_000 * SCALE);
const OVERSIZED = Math.max(4, Math.round(40 * SCALE));
const CONCURRENCY = 32;
const MIN_BAD_FRAMES = Math.round(100_000 * SCALE);
const WS_FRAMES = Math.max(100, Math.round(1_000 * SCALE));

/** Documents in memory when the machine has /dev/shm: this suite is about frames, not fsync, and it waits on many commits. */
const fuzzDataDir = () => mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'quire-fuzz-'));

describe('protocol fuzz: bad frames at random points of real sessions', () => {
  let h: Harness<FuzzReducers>;
  let guard: ProcessGuard;
  let dataDir: string;
  beforeAll(async () => {
    guard = guardProcess();
    dataDir = fuzzDataDir();
    // No compaction: the observer reads every rejection from the commits themselves. No presence rate
    // limit: it depends on time, which the session model cannot predict (tests/presence covers it).
    // No liveness pings, for the same reason: a fuzz client process that a busy machine starves for a
    // few seconds answers no ping, and the server rightly cuts its sessions (close 1006), which the
    // model takes for a close nothing fatal caused. tests/presence covers liveness.
    h = await startHarness(fuzzReducers, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      dataDir,
      compaction: { checkpointEveryCommits: Number.MAX_SAFE_INTEGER, checkpointLogRatio: Number.MAX_SAFE_INTEGER },
      limits: { maxPresenceUpdatesPerSecond: Infinity },
      pingIntervalMs: Infinity,
    });
  });
  afterAll(async () => {
    try {
      await h?.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      guard?.stop();
    }
  });

  test(`over ${MIN_BAD_FRAMES} bad frames: each answered with an error or a close of its own connection; state changes only by accepted mutations; the canary keeps going`, async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const canaryClient = h.client({ clientId: 'canary' });
      await canaryClient.mutate.init().server;
      const canary = new Canary(canaryClient, () => canaryClient.mutate.bump({ id: 'canary' }));
      const observer = await RejectionObserver.open(h.url, 'doc');
      const started = performance.now();
      canary.start(25);
      const only = process.env.QUIRE_FUZZ_ONLY === undefined ? undefined : Number(process.env.QUIRE_FUZZ_ONLY);
      const result = await runFuzzClients(
        {
          url: h.url,
          docId: 'doc',
          seed,
          maxMessageBytes: MAX_MESSAGE_BYTES,
          episodes: EPISODES,
          oversized: OVERSIZED,
          streams: STREAMS,
          streamSteps: STREAM_STEPS,
          concurrency: CONCURRENCY,
          ...(only === undefined ? {} : { only }),
        },
        () => observer.lsn,
      );
      await canary.stop();
      const fuzzMs = performance.now() - started;
      const during = canary.take();

      // Everything accepted is queued before this one, so it is applied once this is confirmed.
      await canaryClient.mutate.bump({ id: 'canary' }).server;
      canary.confirmed++;
      await waitForSettled(canaryClient, h.server);
      await expectSamePages(canaryClient, h.server);
      const { lsn, results } = await serverQuery(h.server, 'doc', [
        'SELECT client_id, seq, name FROM applied ORDER BY client_id, seq',
        'SELECT client_id, last_seq FROM __quire_clients',
        "SELECT n FROM counters WHERE id = 'canary'",
      ]);
      await observer.reach(lsn);
      await observer.collect(dataDir, 'doc');
      const [appliedRows, lastSeqRows, canaryRows] = results as [Array<{ client_id: string; seq: number; name: string }>, Array<{ client_id: string; last_seq: number }>, Array<{ n: number }>];

      // Every accepted mutation is applied or rejected, never both; nothing else is applied; names match.
      const applied = new Map<string, Map<number, string>>();
      for (const row of appliedRows) {
        if (!applied.has(row.client_id)) applied.set(row.client_id, new Map());
        applied.get(row.client_id)!.set(row.seq, row.name);
      }
      const problems: string[] = [...observer.problems];
      const accepted = new Map(result.accepted.map(([clientId, mutations]) => [clientId, new Map(mutations)]));
      for (const [clientId, mutations] of accepted) {
        const done = applied.get(clientId) ?? new Map<number, string>();
        const rejected = observer.rejections.get(clientId) ?? new Map<number, string>();
        for (const [seq, name] of mutations) {
          const isApplied = done.has(seq);
          const isRejected = rejected.has(seq);
          if (isApplied === isRejected) problems.push(`${clientId} seq ${seq} (${name.slice(0, 30)}): applied ${isApplied}, rejected ${isRejected}`);
          if (isApplied && done.get(seq) !== name) problems.push(`${clientId} seq ${seq}: applied as ${done.get(seq)}, sent as ${name.slice(0, 30)}`);
        }
        for (const seq of done.keys()) if (!mutations.has(seq)) problems.push(`${clientId} seq ${seq} applied but never accepted`);
        for (const seq of rejected.keys()) if (!mutations.has(seq)) problems.push(`${clientId} seq ${seq} rejected but never accepted`);
      }
      for (const clientId of applied.keys()) if (!accepted.has(clientId) && clientId !== 'canary') problems.push(`${clientId} has applied rows but no accepted mutation`);
      for (const [clientId, forClient] of observer.rejections) {
        if (!accepted.has(clientId)) problems.push(`${clientId} has rejections but no accepted mutation`);
        for (const [seq, code] of forClient) if (!FUZZ_REJECTION_CODES.includes(code)) problems.push(`${clientId} seq ${seq} rejected with unexpected code ${code}`);
      }
      const lastSeqs = new Map(lastSeqRows.map((r) => [r.client_id, r.last_seq]));
      for (const [clientId, mutations] of accepted) {
        if (lastSeqs.get(clientId) !== Math.max(...mutations.keys())) problems.push(`${clientId}: last_seq ${lastSeqs.get(clientId)}, expected ${Math.max(...mutations.keys())}`);
      }
      for (const clientId of lastSeqs.keys()) if (!accepted.has(clientId) && clientId !== 'canary') problems.push(`${clientId} has a last_seq but no accepted mutation`);
      // The canary: every bump exactly once, never an error, never disconnected.
      if (canaryRows[0]?.n !== canary.confirmed) problems.push(`canary counter ${canaryRows[0]?.n}, confirmed ${canary.confirmed}`);
      if (applied.get('canary')?.size !== canary.confirmed) problems.push(`canary has ${applied.get('canary')?.size} applied rows, confirmed ${canary.confirmed}`);
      expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
      expect(canary.errors).toEqual([]);
      expect(observer.closed).toBeUndefined();
      // Nothing polluted a prototype.
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).filter((n) => n === 'polluted')).toEqual([]);
      expect(guard.describe()).toBe('none');

      const kinds = [...result.byKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
      const outcomes = [...result.byOutcome].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(
        `protocol fuzz (seed ${seed}): ${result.badFrames} bad frames of ${result.frames} in ${result.episodes} sessions, ${(fuzzMs / 1000).toFixed(1)} s; ` +
          `${[...accepted.values()].reduce((n, m) => n + m.size, 0)} mutations accepted, ${observer.commits} commits; canary confirmed ${canary.confirmed} (p50 ${during.p50.toFixed(1)} ms, p95 ${during.p95.toFixed(1)} ms); RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB here, ${result.rssMB} MB in the client process\n  by kind: ${kinds}\n  by outcome: ${outcomes}`,
      );
      if (only === undefined) expect(result.badFrames).toBeGreaterThan(MIN_BAD_FRAMES);
      if (only === undefined && SCALE >= 1) {
        // Every family of bad frames and every way of failing was exercised (smaller runs may miss the rare ones).
        for (const kind of ['random bytes', 'mutated push', 'mutated hello', 'wrong direction', 'wrong message version', 'seq gap', 'unknown reducer', 'hostile arguments', 'deflated frame', 'text frame', 'oversized', 'junk page request']) {
          expect(new Map(result.byKind).get(kind) ?? 0, kind).toBeGreaterThan(0);
        }
        for (const outcome of ['fatal malformed_frame', 'fatal unknown_message', 'fatal unsupported_version', 'fatal unexpected_message', 'fatal message_too_large', 'fatal invalid_client_id', 'close 1009', 'close 1007', 'seq_gap', 'push', 'pages']) {
          expect(new Map(result.byOutcome).get(outcome) ?? 0, outcome).toBeGreaterThan(0);
        }
      }
      observer.close();
    });
  }, 600_000);

  test(`${WS_FRAMES} connections with broken WebSocket framing: each is closed by the WebSocket layer or waits for more bytes; nothing is written; the server keeps serving`, async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const client = h.client({ clientId: 'canary-ws' });
      await client.mutate.init().server;
      const canary = new Canary(client, () => client.mutate.bump({ id: 'canary-ws' }));
      canary.start(25);
      const cases = fc.sample(fc.tuple(brokenWebSocketFraming(webSocketFrame), fc.boolean(), fc.constantFrom('hello' as const, 'getPages' as const, 'forget' as const)), { seed, numRuns: WS_FRAMES });
      const outcomes = new Map<string, number>();
      let next = 0;
      const worker = async () => {
        while (next < cases.length) {
          const i = next++;
          const [variant, helloFirst, kind] = cases[i]!;
          const clientId = `ws${i}`;
          const raw = await openRawWebSocket(h.url, '/?doc=doc');
          try {
            if (helloFirst) raw.write(webSocketFrame(helloFrame(clientId)));
            const payload = kind === 'hello' ? helloFrame(clientId) : kind === 'getPages' ? encodeMessage({ type: 'getPages', id: 1, pgnos: [{ pgno: 1 }] }) : encodeMessage({ type: 'forget', pgnos: [{ pgno: 2 }] });
            raw.write(variant.bytes(payload));
            const closed = await raw.waitClose(150);
            const key = closed ? `close ${raw.closeCode() ?? 'without a close frame'}` : 'still open';
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          } finally {
            raw.destroy();
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      await canary.stop();
      // Nothing those connections sent was applied; the canary kept going and converged.
      const { results } = await serverQuery(h.server, 'doc', ["SELECT count(*) AS n FROM applied WHERE client_id GLOB 'ws[0-9]*'", "SELECT count(*) AS n FROM __quire_clients WHERE client_id GLOB 'ws[0-9]*'", "SELECT n FROM counters WHERE id = 'canary-ws'"]);
      expect(results).toEqual([[{ n: 0 }], [{ n: 0 }], [{ n: canary.confirmed }]]);
      expect(canary.errors).toEqual([]);
      expect(canary.confirmed).toBeGreaterThan(0);
      await waitForSettled(client, h.server);
      await expectSamePages(client, h.server);
      expect(guard.describe()).toBe('none');
      console.log(`WebSocket framing fuzz (seed ${seed}): ${WS_FRAMES} broken frames; ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
      // The WebSocket layer refused most of them as protocol errors.
      expect(outcomes.get('close 1002') ?? 0).toBeGreaterThan(WS_FRAMES / 3);
    });
  }, 300_000);
});
