/**
 * Browser timings for the todo demo, in Chromium: `pnpm -C e2e measure`.
 * Prints a table and writes `{ name, value, unit }[]` to results/browser.json.
 * Needs the demo built (`pnpm turbo run build --filter @quire/todo-demo...`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './harness/chromium.js';
import { startDemoServer } from './harness/demo-server.js';
import { TodoPage, listIdOf } from './harness/todo-page.js';
import { LIST_SIZE, type MeasureEnv } from './measure/measure-env.js';
import { measureMutateToRepaint } from './measure/mutate-to-repaint.js';
import { percentile } from './measure/percentile.js';
import { measurePropagation } from './measure/propagation.js';
import { measureReloadFirstPaint } from './measure/reload-first-paint.js';
import { seedList } from './measure/seed-list.js';

interface Measurement {
  name: string;
  value: number;
  unit: string;
}

const SAMPLES = 50;
const RELOADS = 5;

const log = (line: string) => process.stdout.write(`measure: ${line}\n`);
const server = await startDemoServer();
const browser = await launchChromium();
const results: Measurement[] = [];
try {
  // Let the app create the list (so its URL scheme is the app's), then seed it from Node.
  const setup = await browser.newContext();
  const opened = await TodoPage.openNewList(setup, server.url);
  const listUrl = opened.listUrl();
  await setup.close();
  log(`seeding ${LIST_SIZE} todos into ${listUrl}`);
  await seedList(server.url, listIdOf(listUrl), LIST_SIZE);
  const env: MeasureEnv = { browser, listUrl };

  log(`reload to first paint (${RELOADS} cold, ${RELOADS} warm)…`);
  const reloads = await measureReloadFirstPaint(env, RELOADS);
  log(`mutate to repaint (${SAMPLES} adds and toggles)…`);
  const repaint = await measureMutateToRepaint(env, SAMPLES);
  log(`propagation between two profiles (${SAMPLES} adds and toggles)…`);
  const propagation = await measurePropagation(env, SAMPLES);

  // Adds and toggles alternate (even and odd samples); show them apart too.
  const byKind = (times: number[]) =>
    `adds p50 ${percentile(times.filter((_, i) => i % 2 === 0), 50)} ms, toggles p50 ${percentile(times.filter((_, i) => i % 2 === 1), 50)} ms`;
  log(`mutate to repaint: ${byKind(repaint.fromInput)}`);
  log(`mutate to repaint, from the DOM event: ${byKind(repaint.fromHandler)}`);
  log(`propagation: ${byKind(propagation)}`);
  const runs = (times: number[]) => times.map(Math.round).join(', ');
  log(`reloads, all items: cold ${runs(reloads.cold.full)} ms; warm ${runs(reloads.warm.full)} ms`);
  log(`reloads, a screenful: cold ${runs(reloads.cold.screen)} ms; warm ${runs(reloads.warm.screen)} ms`);

  const ms = (name: string, value: number) => results.push({ name, value: Math.round(value * 10) / 10, unit: 'ms' });
  ms('browser_mutate_to_repaint_p50_ms', percentile(repaint.fromInput, 50));
  ms('browser_mutate_to_repaint_p95_ms', percentile(repaint.fromInput, 95));
  ms('browser_handler_to_repaint_p50_ms', percentile(repaint.fromHandler, 50));
  ms('browser_handler_to_repaint_p95_ms', percentile(repaint.fromHandler, 95));
  ms('browser_propagation_p50_ms', percentile(propagation, 50));
  ms('browser_propagation_p95_ms', percentile(propagation, 95));
  ms('browser_cold_reload_first_paint_ms', percentile(reloads.cold.full, 50));
  ms('browser_warm_reload_first_paint_ms', percentile(reloads.warm.full, 50));
  ms('browser_cold_reload_screen_paint_ms', percentile(reloads.cold.screen, 50));
  ms('browser_warm_reload_screen_paint_ms', percentile(reloads.warm.screen, 50));
} finally {
  await browser.close();
  await server.stop();
}

console.table(results.map((r) => ({ name: r.name, value: `${r.value} ${r.unit}` })));
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'browser.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${out}`);
