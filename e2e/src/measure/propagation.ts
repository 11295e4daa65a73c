import { type MeasureEnv, openFullList, probedContext } from './measure-env.js';
import { prepareAction, runAction } from './mutate-to-repaint.js';
import { clockOffset, probeResult } from './paint-probe.js';

/**
 * Keypress or click in one profile → the next paint showing the change in
 * another profile on the same list, over loopback, in milliseconds.
 */
export async function measurePropagation(env: MeasureEnv, samples: number): Promise<number[]> {
  const contextA = await probedContext(env);
  const contextB = await probedContext(env);
  try {
    const a = await openFullList(env, contextA);
    const b = await openFullList(env, contextB);
    const offsetA = await clockOffset(a.page);
    const offsetB = await clockOffset(b.page);
    process.stdout.write(`measure: the two pages' clocks differ by ${(offsetB - offsetA).toFixed(2)} ms (corrected)\n`);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const lsn = await a.todo.lsn();
      await runAction(await prepareAction(a.todo, i), [a.page, b.page]);
      const [sent, seen] = await Promise.all([probeResult(a.page), probeResult(b.page)]);
      if (sent.input === undefined) throw new Error('the probe saw no keydown/click for the action');
      const inputAt = sent.timeOrigin + sent.input - offsetA;
      const paintedAt = seen.timeOrigin + seen.painted - offsetB;
      times.push(paintedAt - inputAt);
      await a.todo.expectConfirmedAfter(lsn, 30_000);
    }
    return times;
  } finally {
    await contextA.close();
    await contextB.close();
  }
}
