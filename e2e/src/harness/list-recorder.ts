import type { BrowserContext, Page } from 'playwright-core';

/** What the TodoMVC list looked like after one DOM change. */
export interface ListFrame {
  /** `data-id` of every `.todo-list li`, in order. */
  ids: string[];
  main: boolean;
  footer: boolean;
}

const KEY = '__quireListFrames';

/**
 * Records the todo list after every DOM change in each page of `context`
 * (from before the app's first render), so a test can see states that
 * exist for one frame only: polling would miss them.
 */
export async function recordListFrames(context: BrowserContext): Promise<void> {
  await context.addInitScript((key: string) => {
    const frames: { ids: string[]; main: boolean; footer: boolean }[] = [];
    (window as unknown as Record<string, unknown>)[key] = frames;
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    const record = () => {
      const ids = Array.from(document.querySelectorAll('.todo-list li'), (li) => li.getAttribute('data-id') ?? '');
      const frame = { ids, main: document.querySelector('.main') !== null, footer: document.querySelector('.footer') !== null };
      const last = frames.at(-1);
      if (last && same(last.ids, ids) && last.main === frame.main && last.footer === frame.footer) return;
      frames.push(frame);
    };
    // Observer callbacks run after each React commit, before the browser paints it.
    new MutationObserver(record).observe(document, { subtree: true, childList: true });
  }, KEY);
}

/** The frames recorded in `page` so far (see {@link recordListFrames}). */
export function listFrames(page: Page): Promise<ListFrame[]> {
  return page.evaluate((key) => (window as unknown as Record<string, ListFrame[]>)[key] ?? [], KEY);
}

/**
 * Frames in which a todo shown in the frame before is gone, for a test in
 * which nothing is deleted: each one is a flicker the user would see.
 */
export function framesLosingTodos(frames: readonly ListFrame[]): { before: string[]; after: string[] }[] {
  const lost: { before: string[]; after: string[] }[] = [];
  for (let i = 1; i < frames.length; i++) {
    const after = new Set(frames[i]!.ids);
    if (frames[i - 1]!.ids.some((id) => !after.has(id))) lost.push({ before: frames[i - 1]!.ids, after: frames[i]!.ids });
  }
  return lost;
}
