import type { Page } from 'playwright-core';
import type { TodoPage } from '../harness/todo-page.js';
import { type MeasureEnv, openFullList, probedContext } from './measure-env.js';
import { type ProbeTarget, armProbe, probeResult } from './paint-probe.js';

/** One measured action: an add (even `i`) or a toggle of an item near the top (odd `i`). */
export interface Action {
  target: ProbeTarget;
  /** Runs the user input that the probe times. */
  perform(): Promise<void>;
}

/** Prepares action `i` on `todo` (typing the title is not part of what is timed). */
export async function prepareAction(todo: TodoPage, i: number): Promise<Action> {
  if (i % 2 === 0) {
    const title = `measured todo ${i}`;
    await todo.newTodo.fill(title);
    return { target: { kind: 'add', title }, perform: () => todo.newTodo.press('Enter') };
  }
  const li = todo.items.nth(i % 10);
  await li.scrollIntoViewIfNeeded();
  const id = await li.getAttribute('data-id');
  if (!id) throw new Error('a .todo-list li has no data-id; the probe needs it to find the toggled item');
  const completed = !/\bcompleted\b/.test((await li.getAttribute('class')) ?? '');
  // A click as a user's mouse makes it, at the checkbox's centre. Playwright's
  // locator.click() would also check, inside the page and after the input's
  // timestamp, that the point hits the checkbox (elementsFromPoint on every
  // mouse event): its own cost, not the app's, and ~6 ms on this list.
  const box = await li.locator('.toggle').boundingBox();
  if (!box) throw new Error('the toggled item has no box on screen');
  const page = li.page();
  return { target: { kind: 'toggle', id, completed }, perform: () => page.mouse.click(box.x + box.width / 2, box.y + box.height / 2) };
}

/** Arms the probe on `pages`, then performs the action. */
export async function runAction(action: Action, pages: Page[]): Promise<void> {
  for (const page of pages) await armProbe(page, action.target);
  await action.perform();
}

/** One sample per action, in milliseconds, to the next paint that shows the change. */
export interface RepaintTimes {
  /** From the input's timestamp (when the browser got the keypress or click). */
  fromInput: number[];
  /** From the moment the event reached the page's DOM, just before the app's handler. */
  fromHandler: number[];
}

/**
 * Keypress or click → the next paint that shows the change, on a list of
 * 1,000 items (adds and toggles alternate).
 */
export async function measureMutateToRepaint(env: MeasureEnv, samples: number): Promise<RepaintTimes> {
  const context = await probedContext(env);
  try {
    const { page, todo } = await openFullList(env, context);
    const times: RepaintTimes = { fromInput: [], fromHandler: [] };
    for (let i = 0; i < samples; i++) {
      const lsn = await todo.lsn();
      await runAction(await prepareAction(todo, i), [page]);
      const result = await probeResult(page);
      if (result.input === undefined || result.handled === undefined) throw new Error('the probe saw no keydown/click for the action');
      times.fromInput.push(result.painted - result.input);
      times.fromHandler.push(result.painted - result.handled);
      // Let the server confirm before the next sample, so rebases do not pile up.
      await todo.expectConfirmedAfter(lsn, 30_000);
    }
    return times;
  } finally {
    await context.close();
  }
}
