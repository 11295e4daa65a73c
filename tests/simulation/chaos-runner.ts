import fc from 'fast-check';
import { emptyStats, type SimOptions, type WorldStats } from './sim-world.js';
import { runSchedule, type ScheduleResult } from './schedule.js';

/** Decisions per schedule: long enough for crashes to land among pipelined calls, short enough to shrink. */
const SCHEDULE = fc.noBias(fc.array(fc.nat(), { minLength: 20, maxLength: 400, size: 'max' }));

export interface ChaosOptions {
  /** The first schedule's seed; schedule i runs with seed + i. */
  seed: number;
  runs: number;
  /** How long a failure may spend shrinking. Default 120 s; 0 does not shrink. */
  shrinkMs?: number;
  world?: SimOptions;
  /** Called after each schedule (not after shrinking runs). */
  onRun?: (done: number, seed: number, result: ScheduleResult) => void;
}

export interface ChaosFailure {
  seed: number;
  violations: string[];
  /** The smallest failing list of decisions shrinking found, and its trace. */
  shrunk: readonly number[];
  trace: string[];
  shrinks: number;
}

export interface ChaosReport {
  runs: number;
  totals: WorldStats;
  failures: ChaosFailure[];
}

/**
 * Runs `runs` schedules, one fast-check property run per seed so that a
 * seed alone replays its schedule. A failing schedule is shrunk (fewer and
 * smaller decisions) and reported with its seed and the shrunk trace.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const totals = emptyStats();
  const failures: ChaosFailure[] = [];
  for (let i = 0; i < options.runs; i++) {
    const seed = (options.seed + i) >>> 0;
    let first: ScheduleResult | undefined;
    const details = await fc.check(
      fc.asyncProperty(SCHEDULE, async (decisions) => {
        const result = await runSchedule(decisions, seed, options.world);
        first ??= result;
        return result.violations.length === 0;
      }),
      { seed, numRuns: 1, endOnFailure: options.shrinkMs === 0, interruptAfterTimeLimit: options.shrinkMs || 120_000, markInterruptAsFailure: false },
    );
    if (first) add(totals, first.stats);
    options.onRun?.(i + 1, seed, first!);
    if (details.failed && details.counterexample) {
      const [shrunk] = details.counterexample;
      // Run the shrunk schedule once more for its trace: the same decisions give the same run.
      const again = await runSchedule(shrunk, seed, options.world);
      failures.push({ seed, violations: again.violations.length > 0 ? again.violations : first!.violations, shrunk, trace: again.trace, shrinks: details.numShrinks });
    }
  }
  return { runs: options.runs, totals, failures };
}

/** A failure as a person reads it: the seed to replay, what broke, and the shrunk schedule step by step. */
export function describeFailure(failure: ChaosFailure): string {
  return [
    `schedule with seed ${failure.seed} broke ${failure.violations.length} invariant(s):`,
    ...failure.violations.slice(0, 20).map((v) => `  - ${v}`),
    `replay it with: npm run chaos -- --seed ${failure.seed}`,
    `shrunk ${failure.shrinks} times to ${failure.shrunk.length} decisions: ${JSON.stringify(failure.shrunk)}`,
    'what the shrunk schedule did:',
    ...failure.trace.map((line, i) => `  ${String(i + 1).padStart(4)}. ${line}`),
  ].join('\n');
}

function add(totals: WorldStats, stats: WorldStats): void {
  totals.mutations += stats.mutations;
  for (const point of Object.keys(totals.serverCrashes) as Array<keyof WorldStats['serverCrashes']>) totals.serverCrashes[point] += stats.serverCrashes[point];
  totals.clientRestarts += stats.clientRestarts;
  totals.cuts += stats.cuts;
  totals.resendsForced += stats.resendsForced;
  totals.checks += stats.checks;
  totals.checkpointPagesWritten += stats.checkpointPagesWritten;
  totals.seenNotDurable += stats.seenNotDurable;
}
