import { type MeasureEnv, probedContext } from './measure-env.js';
import { fullListPaintedAt, screenPaintedAt } from './paint-probe.js';

/** Navigation start → first paint showing the list, for `runs` loads. */
export interface ReloadTimes {
  /** Each in a fresh profile: empty HTTP cache, no local replica. */
  cold: PaintTimes;
  /** A reload of a page that has shown the list: warm HTTP cache and whatever the app kept locally. */
  warm: PaintTimes;
}

export interface PaintTimes {
  /** To the first paint showing all 1,000 items. */
  full: number[];
  /** To the first paint showing the items that fit in the window. */
  screen: number[];
}

export async function measureReloadFirstPaint(env: MeasureEnv, runs: number): Promise<ReloadTimes> {
  const times: ReloadTimes = { cold: { full: [], screen: [] }, warm: { full: [], screen: [] } };
  for (let i = 0; i < runs; i++) {
    const context = await probedContext(env);
    try {
      const page = await context.newPage();
      for (const kind of ['cold', 'warm'] as const) {
        if (kind === 'cold') await page.goto(env.listUrl);
        else await page.reload();
        times[kind].full.push(await fullListPaintedAt(page));
        times[kind].screen.push(await screenPaintedAt(page));
      }
    } finally {
      await context.close();
    }
  }
  return times;
}
