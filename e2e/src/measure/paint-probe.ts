import type { BrowserContext, Page } from 'playwright-core';

/** What a probe waits for: a todo added at the end of the list, or one item's completed state. */
export type ProbeTarget = { kind: 'add'; title: string } | { kind: 'toggle'; id: string; completed: boolean };

/** Times in the page's clock (`performance.now()`), plus its time origin to compare pages. */
export interface ProbeResult {
  /** `timeStamp` of the first keydown/click after arming (when the browser got the input), if one came. */
  input: number | undefined;
  /** When that event reached the page's DOM (a window capture listener ran, before the app's handler). */
  handled: number | undefined;
  /** The first moment after the paint that showed the target. */
  painted: number;
  timeOrigin: number;
}

interface ProbeWindow {
  __probeArm(target: ProbeTarget): void;
  __probeArmed: boolean;
  __probeInput: number | undefined;
  __probeHandled: number | undefined;
  __probeDone: Promise<ProbeResult> | undefined;
  __probeFullList: Promise<number>;
  __probeScreenFull: Promise<number>;
}

/**
 * Installed before any page script. Paint detection: a MutationObserver sees
 * the DOM change, requestAnimationFrame runs just before the frame that paints
 * it, and a message posted from there is handled right after that paint.
 */
function probeInit(fullListSize: number): void {
  const w = window as unknown as ProbeWindow;
  const afterNextPaint = (done: (at: number) => void) =>
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => done(performance.now());
      channel.port2.postMessage(null);
    });
  const whenDom = (matches: () => boolean): Promise<number> =>
    new Promise((resolve) => {
      const check = () => {
        if (!matches()) return false;
        afterNextPaint(resolve);
        return true;
      };
      const observer = new MutationObserver(() => {
        if (check()) observer.disconnect();
      });
      observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'], characterData: true });
    });

  for (const type of ['keydown', 'click']) {
    addEventListener(type, (event) => {
      if (!w.__probeArmed || w.__probeInput !== undefined) return;
      w.__probeInput = event.timeStamp;
      w.__probeHandled = performance.now();
    }, true);
  }
  w.__probeArm = (target) => {
    w.__probeInput = undefined;
    w.__probeHandled = undefined;
    w.__probeArmed = true;
    const matches =
      target.kind === 'add'
        ? () => document.querySelector('.todo-list li:last-child label')?.textContent === target.title
        : () => document.querySelector(`.todo-list li[data-id="${CSS.escape(target.id)}"]`)?.classList.contains('completed') === target.completed;
    w.__probeDone = whenDom(matches).then((painted) => {
      w.__probeArmed = false;
      return { input: w.__probeInput, handled: w.__probeHandled, painted, timeOrigin: performance.timeOrigin };
    });
  };
  w.__probeFullList = whenDom(() => (document.querySelector('.todo-list')?.childElementCount ?? 0) >= fullListSize);
  // The list's items down to the bottom of the window (or all of them): what a user sees of it.
  w.__probeScreenFull = whenDom(() => {
    const list = document.querySelector('.todo-list');
    if (!list?.lastElementChild) return false;
    return list.childElementCount >= fullListSize || list.lastElementChild.getBoundingClientRect().bottom >= innerHeight;
  });
}

/** Adds the probe to every page of `context`; `fullListSize` is the item count a full list shows. */
export async function addPaintProbe(context: BrowserContext, fullListSize: number): Promise<void> {
  // tsx (esbuild keepNames) wraps named functions in `__name(...)`, which does
  // not exist in the page: give the serialized source a no-op one.
  const content = `(() => { const __name = (fn) => fn; (${probeInit.toString()})(${JSON.stringify(fullListSize)}); })();`;
  await context.addInitScript({ content });
}

export function armProbe(page: Page, target: ProbeTarget): Promise<void> {
  return page.evaluate((t) => (window as unknown as ProbeWindow).__probeArm(t), target);
}

export async function probeResult(page: Page): Promise<ProbeResult> {
  const result = await page.evaluate(() => (window as unknown as ProbeWindow).__probeDone);
  if (!result) throw new Error('probe was not armed');
  return result;
}

/** Milliseconds from navigation start to the first paint showing the full list. */
export async function fullListPaintedAt(page: Page): Promise<number> {
  const at = await page.evaluate(() => (window as unknown as ProbeWindow).__probeFullList);
  if (typeof at !== 'number') throw new Error('the paint probe is not installed in this page');
  return at;
}

/** Milliseconds from navigation start to the first paint showing the list's items down to the bottom of the window. */
export async function screenPaintedAt(page: Page): Promise<number> {
  const at = await page.evaluate(() => (window as unknown as ProbeWindow).__probeScreenFull);
  if (typeof at !== 'number') throw new Error('the paint probe is not installed in this page');
  return at;
}

/**
 * How far this page's `timeOrigin + now()` runs ahead of `Date.now()`. Pages
 * live in different processes; subtracting each one's offset puts their
 * high-resolution times on one clock. Sampled right as Date.now() ticks, so
 * its 1 ms steps do not add up to a millisecond of error.
 */
export async function clockOffset(page: Page): Promise<number> {
  const samples = await page.evaluate(() => {
    const out: number[] = [];
    let last = Date.now();
    const until = performance.now() + 40;
    while (performance.now() < until) {
      const now = Date.now();
      if (now !== last) out.push(performance.timeOrigin + performance.now() - now);
      last = now;
    }
    return out;
  });
  if (samples.length === 0) throw new Error('Date.now() did not tick in 40 ms');
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)]!;
}
