/**
 * `npm run chaos -- [--seed N] [--runs N] [--shrink-seconds N]`: runs the
 * deterministic simulation outside the test suite. With `--seed` alone it
 * replays that one schedule; `--runs 10000` is for long runs.
 */
import { parseArgs } from 'node:util';
import { seedFromEnv } from '../helpers/seeded-random.js';
import { describeFailure, runChaos } from './chaos-runner.js';

const { values } = parseArgs({
  // pnpm passes the `--` of `npm run chaos -- …` through.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    seed: { type: 'string' },
    runs: { type: 'string' },
    'shrink-seconds': { type: 'string', default: '300' },
  },
});

const positiveInt = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`--${name} must be a whole number, got "${text}"\n`);
    process.exit(2);
  }
  return value;
};

const seed = values.seed !== undefined ? positiveInt('seed', values.seed) >>> 0 : seedFromEnv();
const runs = values.runs !== undefined ? positiveInt('runs', values.runs) : values.seed !== undefined ? 1 : 200;
const started = Date.now();
let lastReport = started;
process.stdout.write(`chaos: ${runs} schedule(s) from seed ${seed}\n`);
const report = await runChaos({
  seed,
  runs,
  shrinkMs: positiveInt('shrink-seconds', values['shrink-seconds']!) * 1000,
  onRun(done, runSeed, result) {
    if (result.violations.length > 0) process.stdout.write(`seed ${runSeed} failed, shrinking…\n`);
    if (done === runs || Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      process.stdout.write(`  ${done}/${runs} schedules, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  },
});
const t = report.totals;
process.stdout.write(
  `ran ${report.runs} schedules in ${((Date.now() - started) / 1000).toFixed(1)} s: ${t.mutations} mutations, ${t.checks} quiescent checks, ` +
    `server crashes ${JSON.stringify(t.serverCrashes)}, ${t.clientRestarts} client restarts, ${t.cuts} cuts, ${t.resendsForced} forced resends, ` +
    `${t.seenNotDurable} times a client showed a commit its server then lost\n`,
);
for (const failure of report.failures) process.stdout.write(`\n${describeFailure(failure)}\n`);
process.stdout.write(report.failures.length === 0 ? 'every invariant held\n' : `${report.failures.length} schedule(s) failed\n`);
process.exit(report.failures.length === 0 ? 0 : 1);
