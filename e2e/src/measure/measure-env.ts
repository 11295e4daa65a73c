import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TodoPage } from '../harness/todo-page.js';
import { addPaintProbe, fullListPaintedAt } from './paint-probe.js';

/** A demo server, a Chromium and one list seeded with {@link LIST_SIZE} todos. */
export interface MeasureEnv {
  readonly browser: Browser;
  /** The list's URL on the demo server. */
  readonly listUrl: string;
}

export const LIST_SIZE = 1000;

/** A fresh profile with the paint probe, closed by the caller. */
export async function probedContext(env: MeasureEnv): Promise<BrowserContext> {
  const context = await env.browser.newContext();
  context.setDefaultTimeout(30_000);
  await addPaintProbe(context, LIST_SIZE);
  return context;
}

/** Opens the seeded list and waits for it to be painted in full with nothing pending. */
export async function openFullList(env: MeasureEnv, context: BrowserContext): Promise<{ page: Page; todo: TodoPage }> {
  const page = await context.newPage();
  await page.goto(env.listUrl);
  await fullListPaintedAt(page);
  const todo = new TodoPage(page);
  await todo.expectConnection('connected', 30_000);
  await todo.expectNothingPending(30_000);
  return { page, todo };
}
