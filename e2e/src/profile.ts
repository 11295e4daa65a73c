/**
 * Where the browser's time goes, for the figures `pnpm -C e2e measure` reports:
 * Chromium CPU profiles (over CDP) of the page and of the SharedWorker that runs
 * the engine, during mutate → repaint on the 1,000-item list, and the
 * `performance.mark`s both threads leave during a cold and a warm load.
 *
 *   pnpm -C e2e measure:profile            # prints the breakdown; profiles in e2e/results/profiles/
 *
 * Build the demo without minifying to read function names in the profiles
 * (`pnpm -C apps/todo-demo exec vite build --minify false`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';
import { launchChromium } from './harness/chromium.js';
import { startDemoServer } from './harness/demo-server.js';
import { TodoPage, listIdOf } from './harness/todo-page.js';
import { type MeasureEnv, openFullList, probedContext } from './measure/measure-env.js';
import { prepareAction, runAction } from './measure/mutate-to-repaint.js';
import { fullListPaintedAt, probeResult } from './measure/paint-probe.js';
import { seedList } from './measure/seed-list.js';
import { type CpuProfile, summarize } from './measure/profile-summary.js';
import { WorkerSession, attachSharedWorker } from './measure/worker-session.js';

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

function summarizeTrace(events: TraceEvent[]): string {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && events.some((x) => x.pid === e.pid && x.name === 'Layout'));
  const totals = new Map<string, { ms: number; n: number }>();
  for (const e of events) {
    if (!main || e.pid !== main.pid || e.tid !== main.tid || e.ph !== 'X' || e.dur === undefined) continue;
    const t = totals.get(e.name) ?? { ms: 0, n: 0 };
    t.ms += e.dur / 1000;
    t.n++;
    totals.set(e.name, t);
  }
  return [...totals]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 25)
    .map(([name, t]) => `  ${t.ms.toFixed(1).padStart(8)} ms  ${String(t.n).padStart(5)}x  ${name}`)
    .join('\n');
}

const ACTIONS = Number(process.env.PROFILE_ACTIONS ?? 30);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'profiles');
mkdirSync(out, { recursive: true });
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Profiler {
  send(method: string, params?: object): Promise<unknown>;
}

async function startProfile(session: Profiler): Promise<void> {
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 100 });
  await session.send('Profiler.start');
}

async function stopProfile(session: Profiler, name: string): Promise<CpuProfile> {
  const { profile } = (await session.send('Profiler.stop')) as { profile: CpuProfile };
  writeFileSync(join(out, `${name}.cpuprofile`), JSON.stringify(profile));
  return profile;
}

/** Marks of a thread, on the wall clock (timeOrigin + startTime). */
async function marks(evaluate: (expression: string) => Promise<unknown>): Promise<Array<{ name: string; at: number }>> {
  const json = (await evaluate(
    `JSON.stringify(performance.getEntriesByType('mark').map((m) => ({ name: m.name, at: performance.timeOrigin + m.startTime })))`,
  )) as string;
  return JSON.parse(json) as Array<{ name: string; at: number }>;
}

const server = await startDemoServer();
const browser = await launchChromium();
try {
  const setup = await browser.newContext();
  const opened = await TodoPage.openNewList(setup, server.url);
  const listUrl = opened.listUrl();
  await setup.close();
  await seedList(server.url, listIdOf(listUrl), 1000);
  const env: MeasureEnv = { browser, listUrl };

  // Cold then warm load: the marks of the page and the worker on one clock.
  {
    const context = await probedContext(env);
    const page = await context.newPage();
    const session = await context.newCDPSession(page);
    for (const kind of ['cold', 'warm'] as const) {
      if (kind === 'cold') await page.goto(listUrl);
      else {
        await startProfile(session);
        await page.reload();
      }
      const painted = await fullListPaintedAt(page);
      if (kind === 'warm') {
        log('\nwarm load, page thread (self time):');
        log(summarize(await stopProfile(session, 'warm-load-page')));
      }
      const origin = (await page.evaluate('performance.timeOrigin')) as number;
      const worker = await attachSharedWorker(browser);
      const all = [
        ...(await marks((e) => page.evaluate(e))).map((m) => ({ ...m, thread: 'page' })),
        ...(worker ? (await marks((e) => worker.evaluate(e))).map((m) => ({ ...m, thread: 'worker' })) : []),
      ].sort((a, b) => a.at - b.at);
      log(`\n${kind} load: full list painted at ${painted.toFixed(1)} ms after navigation start`);
      for (const m of all) if (m.at >= origin - 1) log(`  ${(m.at - origin).toFixed(1).padStart(8)} ms  ${m.thread.padEnd(6)} ${m.name}`);
      await worker?.detach();
    }
    await context.close();
  }

  // Mutate → repaint, profiled in both threads.
  const context = await probedContext(env);
  const { page, todo } = await openFullList(env, context);
  const worker = await attachSharedWorker(browser);
  if (!worker) throw new Error('no SharedWorker target: the demo runs its engine in one');
  const pageSession = await context.newCDPSession(page);
  await startProfile(pageSession);
  await startProfile(worker);
  const times: number[] = [];
  for (let i = 0; i < ACTIONS; i++) {
    const lsn = await todo.lsn();
    await page.evaluate(() => performance.clearMarks());
    await worker.evaluate('performance.clearMarks()');
    await runAction(await prepareAction(todo, i), [page]);
    const result = await probeResult(page);
    times.push(result.painted - (result.input ?? result.painted));
    await todo.expectConfirmedAfter(lsn, 30_000);
    if (i < 6) {
      const origin = (await page.evaluate('performance.timeOrigin')) as number;
      const input = origin + (result.input ?? 0);
      const all = [
        ...(await marks((e) => page.evaluate(e))).map((m) => ({ ...m, thread: 'page' })),
        ...(await marks((e) => worker.evaluate(e))).map((m) => ({ ...m, thread: 'worker' })),
        { name: 'PAINTED', at: origin + result.painted, thread: 'page' },
      ].sort((a, b) => a.at - b.at);
      log(`\naction ${i} (${i % 2 === 0 ? 'add' : 'toggle'}): ${times.at(-1)!.toFixed(1)} ms`);
      for (const m of all) log(`  ${(m.at - input).toFixed(1).padStart(8)} ms  ${m.thread.padEnd(6)} ${m.name}`);
    }
  }
  const pageProfile = await stopProfile(pageSession, 'mutate-page');
  const workerProfile = await stopProfile(worker, 'mutate-worker');
  log(`\nmutate → repaint (${ACTIONS} actions): ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  log('\npage thread (self time, whole run incl. confirms):');
  log(summarize(pageProfile));
  log('\nworker thread (self time):');
  log(summarize(workerProfile));
  await (pageSession as CDPSession).detach();
  await worker.detach();

  // The same actions under Chromium's tracing: what the page's main thread did besides JavaScript.
  await browser.startTracing(page, { categories: ['devtools.timeline', 'blink.user_timing'] });
  for (let i = 0; i < 10; i++) {
    const lsn = await todo.lsn();
    await runAction(await prepareAction(todo, i), [page]);
    await probeResult(page);
    await todo.expectConfirmedAfter(lsn, 30_000);
  }
  const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
  writeFileSync(join(out, 'mutate-trace.json'), JSON.stringify(trace));
  log('\npage main thread, 10 actions (trace; events by total duration, nested ones counted in their parents too):');
  log(summarizeTrace(trace.traceEvents));
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
export type { Page, WorkerSession };
