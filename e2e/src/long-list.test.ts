import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { framesLosingTodos, listFrames, recordListFrames } from './harness/list-recorder.js';
import { TodoPage, UI_TIMEOUT_MS, listIdOf } from './harness/todo-page.js';
import { seedList } from './measure/seed-list.js';

// A list longer than a screenful: the app renders the first screenful first
// (use-screenful-first.ts). Every item must still be there and work.
const demo = useDemoSuite();
const SIZE = 120;

async function openLongList(): Promise<TodoPage> {
  const created = await TodoPage.openNewList(await demo.newContext(), demo.url);
  const url = created.listUrl();
  await created.page.context().close();
  await seedList(demo.url, listIdOf(url), SIZE);
  return TodoPage.open(await demo.newContext(), url);
}

describe('a list longer than the screen', () => {
  it('shows every item, in order, and counts them all', async () => {
    const todo = await openLongList();
    const titles = Array.from({ length: SIZE }, (_, i) => `Seeded todo ${i + 1}`);
    await todo.expectTitles(titles);
    expect(await todo.count.textContent()).toBe(`${SIZE} items left`);
    // The last item can be scrolled to and is drawn.
    const last = todo.item(`Seeded todo ${SIZE}`);
    await last.scrollIntoViewIfNeeded();
    expect(await last.locator('label').isVisible()).toBe(true);
  });

  it('toggles, edits and deletes items far below the first screenful', async () => {
    const todo = await openLongList();
    await expect.poll(() => todo.items.count(), { timeout: UI_TIMEOUT_MS }).toBe(SIZE);
    await todo.toggle('Seeded todo 100');
    await todo.expectCompleted(['Seeded todo 100']);

    const li = await todo.startEditing('Seeded todo 110');
    await expect.poll(() => li.locator('.edit').evaluate((el) => el === document.activeElement), { timeout: UI_TIMEOUT_MS }).toBe(true);
    await li.locator('.edit').fill('edited far down');
    await li.locator('.edit').press('Enter');
    await expect.poll(async () => (await todo.titles())[109], { timeout: UI_TIMEOUT_MS }).toBe('edited far down');
    expect(await todo.page.locator('.todo-list li.editing').count()).toBe(0);

    await todo.destroy('Seeded todo 120');
    await expect.poll(() => todo.items.count(), { timeout: UI_TIMEOUT_MS }).toBe(SIZE - 1);
    await todo.expectNothingPending();
  });
  it('never hides an item of a list that grows past a screenful while open', async () => {
    const context = await demo.newContext();
    await recordListFrames(context);
    const todo = await TodoPage.openNewList(context, demo.url);
    await todo.add('typed here');
    await todo.expectTitles(['typed here']);
    // Another client fills the list while this page shows it.
    await seedList(demo.url, listIdOf(todo.listUrl()), 40);
    await expect.poll(() => todo.items.count(), { timeout: UI_TIMEOUT_MS }).toBe(41);
    expect(framesLosingTodos(await listFrames(todo.page))).toEqual([]);
  });
});
