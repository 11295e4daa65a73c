import { type MeasureEnv, probedContext } from './measure-env.js';
import { fullListPaintedAt } from './paint-probe.js';

/** Navigation start → first paint showing all 1,000 items, for `runs` loads. */
export interface ReloadTimes {
  /** Each in a fresh profile: empty HTTP cache, no local replica. */
  cold: number[];
  /** A reload of a page that has shown the list: warm HTTP cache and whatever the app kept locally. */
  warm: number[];
}

export async function measureReloadFirstPaint(env: MeasureEnv, runs: number): Promise<ReloadTimes> {
  const times: ReloadTimes = { cold: [], warm: [] };
  for (let i = 0; i < runs; i++) {
    const context = await probedContext(env);
    try {
      const page = await context.newPage();
      await page.goto(env.listUrl);
      times.cold.push(await fullListPaintedAt(page));
      await page.reload();
      times.warm.push(await fullListPaintedAt(page));
    } finally {
      await context.close();
    }
  }
  return times;
}
