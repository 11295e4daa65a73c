import { PerformanceObserver, constants } from 'node:perf_hooks';
import { startFleet } from '../lib/fleet.js';
import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, withServer } from '../lib/servers.js';
import { percentile, quireClient, ready, sleep, todoId, todoTitle } from '../lib/setup.js';

/** How often the other client (in its own process) adds a todo while the measured one works. */
const OTHER_EVERY_MS = 20;
/** The measured client's pace: a turn of the event loop and a little more between calls, as a fast typist. */
const PACE_MS = 4;

/**
 * mutate.addTodo until a subscribed query on the same client has the row,
 * while commits keep arriving: the client's own (it sends each call) and
 * another client's, which adds a todo every {@link OTHER_EVERY_MS} ms. The
 * measured calls leave the event loop between them, so those commits are
 * applied (and the pending calls rebased) in between and during the timed
 * applies, as in an app.
 */
export async function localApply(iterations: number): Promise<BenchResult[]> {
  return withServer(startQuireServer, async (server) => {
    const docId = 'local-apply';
    const client = quireClient(server.url, docId);
    await client.mutate.init().server;
    await ready(client);
    const other = await startFleet({ kind: 'quire', url: server.url, docs: [docId], processes: 1, watch: false }).catch(async (error: unknown) => {
      await client.close();
      throw error;
    });
    try {
      // The newest of this client's todos (ids `l…`), read through the primary key.
      let latest = '';
      let wake: (() => void) | undefined;
      const stop = client.subscribe<{ id: string }>("SELECT id FROM todos WHERE id >= 'l' AND id < 'm' ORDER BY id DESC LIMIT 1", [], (rows) => {
        latest = rows[0]?.id ?? '';
        wake?.();
      });
      const trickle = other.all('trickle', { everyMs: OTHER_EVERY_MS, tag: 'o' });
      const samples: number[] = [];
      // CPU time of this process during each sample: a sample far above it waited (preempted, or for I/O).
      const cpuSamples: number[] = [];
      const gcs: Array<{ start: number; ms: number; major: boolean }> = [];
      const gcObserver = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const kind = (e as { detail?: { kind?: number } }).detail?.kind;
          gcs.push({ start: e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
        }
      });
      gcObserver.observe({ entryTypes: ['gc'] });
      const spans: Array<[number, number]> = [];
      const warmUp = 50;
      const lsnBefore = client.status().lsn;
      for (let i = 0; i < warmUp + iterations; i++) {
        await sleep(PACE_MS);
        const id = todoId(i, 'l');
        const cpu = process.cpuUsage();
        const start = performance.now();
        client.mutate.addTodo({ id, title: todoTitle(i) });
        while (latest !== id) await new Promise<void>((r) => (wake = r));
        if (i >= warmUp) {
          const end = performance.now();
          samples.push(end - start);
          spans.push([start, end]);
          const used = process.cpuUsage(cpu);
          cpuSamples.push((used.user + used.system) / 1000);
        }
      }
      stop();
      gcObserver.disconnect();
      const slow = percentile(samples, 99);
      const gcIn = (from: number, to: number) => gcs.filter((g) => g.start < to && g.start + g.ms > from);
      const slowOnes = spans.map(([a, b], k) => ({ ms: b - a, cpu: cpuSamples[k]!, gc: gcIn(a, b) })).filter((s) => s.ms >= slow);
      process.stdout.write(
        `bench:   local apply: p99 of CPU time per sample ${percentile(cpuSamples, 99).toFixed(2)} ms; GC during the run: ${gcs.length} pauses (${gcs.filter((g) => g.major).length} major), longest ${Math.max(0, ...gcs.map((g) => g.ms)).toFixed(1)} ms\n` +
          `bench:   slowest samples: ${slowOnes.map((s) => `${s.ms.toFixed(1)} ms (cpu ${s.cpu.toFixed(1)}, gc ${s.gc.map((g) => `${g.major ? 'major ' : ''}${g.ms.toFixed(1)}`).join('+') || 'none'})`).join('; ')}\n`,
      );
      const [othersAdded] = await other.all<number>('stopTrickle');
      await trickle;
      const commits = client.status().lsn - lsnBefore;
      process.stdout.write(`bench:   local apply: ${commits} commits arrived during ${warmUp + iterations} applies (the other client added ${othersAdded})\n`);
      return [result('local_apply_p50_ms', percentile(samples, 50), 'ms'), result('local_apply_p99_ms', percentile(samples, 99), 'ms')];
    } finally {
      await other.close();
      await client.close();
    }
  });
}
