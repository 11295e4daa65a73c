import { expect, test } from 'vitest';
import { seedFromEnv } from '../helpers/seeded-random.js';
import { describeFailure, runChaos } from './chaos-runner.js';
import { runSchedule } from './schedule.js';

// At least 200 (the bar for CI); `npm run chaos -- --runs 10000` is the long run.
const RUNS = Number(process.env.QUIRE_CHAOS_RUNS ?? 500);

test(`${RUNS} seeded schedules of crashes, cuts and restarts: every invariant holds at every quiescent point`, { timeout: 15 * 60_000 }, async () => {
  const seed = seedFromEnv();
  console.log(`chaos: ${RUNS} schedules from seed ${seed} (replay one with: npm run chaos -- --seed <seed>)`);
  const started = performance.now();
  const report = await runChaos({ seed, runs: RUNS });
  const t = report.totals;
  console.log(
    `chaos: ${RUNS} schedules in ${((performance.now() - started) / 1000).toFixed(1)} s: ${t.mutations} mutations, ${t.checks} quiescent checks, ` +
      `server crashes ${JSON.stringify(t.serverCrashes)}, ${t.clientRestarts} client restarts, ${t.cuts} cuts, ${t.resendsForced} forced resends, ${t.seenNotDurable} commits seen then lost`,
  );
  expect(report.failures.map(describeFailure)).toEqual([]);
  // The schedules did reach every crash point.
  for (const count of Object.values(t.serverCrashes)) expect(count).toBeGreaterThan(0);
  expect(t.clientRestarts).toBeGreaterThan(0);
  // Clients did see commits that their server lost before they were durable.
  expect(t.seenNotDurable).toBeGreaterThan(0);
});

test('a schedule replays exactly: the same decisions give the same run, step by step', async () => {
  const decisions = Array.from({ length: 250 }, (_, i) => (i * 2_654_435_761) >>> 1);
  const first = await runSchedule(decisions, 7);
  const second = await runSchedule(decisions, 7);
  expect(first.violations).toEqual([]);
  expect(second.trace).toEqual(first.trace);
  expect(first.trace.length).toBeGreaterThan(100);
});

test('the simulation catches a server whose commit log acknowledges before it is durable', { timeout: 5 * 60_000 }, async () => {
  const report = await runChaos({ seed: 1, runs: 10, shrinkMs: 0, world: { brokenLog: true } });
  expect(report.failures.length).toBeGreaterThan(0);
  const violations = report.failures.flatMap((f) => f.violations).join('\n');
  expect(violations).toMatch(/was confirmed at LSN \d+ but is in the document 0 times|saw its durable LSN go back|convergence/);
});
