import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

// The TodoMVC app spec (github.com/tastejs/todomvc/blob/master/app-spec.md), one behaviour per test.
const demo = useDemoSuite();

async function freshList(): Promise<TodoPage> {
  return TodoPage.openNewList(await demo.newContext(), demo.url);
}

const isFocused = (todo: TodoPage, selector: string) =>
  todo.page.evaluate((sel) => document.activeElement === document.querySelector(sel), selector);

describe('TodoMVC', () => {
  it('focuses the new-todo field on load and after a reload', async () => {
    const todo = await freshList();
    await expect.poll(() => isFocused(todo, '.new-todo'), { timeout: UI_TIMEOUT_MS }).toBe(true);
    await todo.page.reload();
    await todo.newTodo.waitFor();
    await expect.poll(() => isFocused(todo, '.new-todo'), { timeout: UI_TIMEOUT_MS }).toBe(true);
  });

  it('adds a trimmed title on Enter and clears the field; empty and blank input add nothing', async () => {
    const todo = await freshList();
    await todo.add('');
    await todo.add('   ');
    await todo.add('  Buy milk  ');
    await expect.poll(() => todo.newTodo.inputValue(), { timeout: UI_TIMEOUT_MS }).toBe('');
    await todo.add('Walk the dog');
    // Had the blank entries been added, they would sit before "Buy milk".
    await todo.expectTitles(['Buy milk', 'Walk the dog']);
  });

  // As in TodoMVC's own React example, the edit field exists only while editing.
  it('renders each item with a toggle, a label and a destroy button, and an edit field while editing', async () => {
    const todo = await freshList();
    await todo.add('Buy milk');
    await todo.expectTitles(['Buy milk']);
    const li = todo.item('Buy milk');
    expect(await li.locator('input.toggle[type="checkbox"]').count()).toBe(1);
    expect(await li.locator('label').textContent()).toBe('Buy milk');
    expect(await li.locator('button.destroy').count()).toBe(1);
    expect(await li.locator('input.edit').count()).toBe(0);
    await todo.startEditing('Buy milk');
    await expect.poll(() => li.locator('input.edit').count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
    expect(await li.locator('input.edit').inputValue()).toBe('Buy milk');
  });

  it('marks an item completed when toggled, and active again when toggled back', async () => {
    const todo = await freshList();
    await todo.add('Buy milk', 'Walk the dog');
    await todo.expectTitles(['Buy milk', 'Walk the dog']);
    await todo.toggle('Buy milk');
    await todo.expectCompleted(['Buy milk']);
    expect(await todo.item('Buy milk').locator('.toggle').isChecked()).toBe(true);
    await todo.toggle('Buy milk');
    await todo.expectCompleted([]);
    expect(await todo.item('Buy milk').locator('.toggle').isChecked()).toBe(false);
  });

  it('completes and un-completes every item with toggle-all, whose state follows the items', async () => {
    const todo = await freshList();
    await todo.add('a', 'b', 'c');
    await todo.expectTitles(['a', 'b', 'c']);
    expect(await todo.toggleAllLabel.textContent()).toBeTruthy();
    await todo.toggleAllLabel.click();
    await todo.expectCompleted(['a', 'b', 'c']);
    expect(await todo.toggleAll.isChecked()).toBe(true);
    await todo.toggleAllLabel.click();
    await todo.expectCompleted([]);
    expect(await todo.toggleAll.isChecked()).toBe(false);
    // Completing the items one by one checks toggle-all; re-opening one clears it.
    for (const title of ['a', 'b', 'c']) await todo.toggle(title);
    await expect.poll(() => todo.toggleAll.isChecked(), { timeout: UI_TIMEOUT_MS }).toBe(true);
    await todo.toggle('b');
    await expect.poll(() => todo.toggleAll.isChecked(), { timeout: UI_TIMEOUT_MS }).toBe(false);
  });

  it('counts the active items with the right plural', async () => {
    const todo = await freshList();
    const countHtml = () => todo.count.innerHTML();
    await todo.add('a');
    await expect.poll(countHtml, { timeout: UI_TIMEOUT_MS }).toBe('<strong>1</strong> item left');
    await todo.add('b', 'c');
    await expect.poll(countHtml, { timeout: UI_TIMEOUT_MS }).toBe('<strong>3</strong> items left');
    await todo.toggle('a');
    await expect.poll(countHtml, { timeout: UI_TIMEOUT_MS }).toBe('<strong>2</strong> items left');
    await todo.toggleAllLabel.click();
    await expect.poll(countHtml, { timeout: UI_TIMEOUT_MS }).toBe('<strong>0</strong> items left');
  });

  it('shows clear-completed only while something is completed, and it removes the completed items', async () => {
    const todo = await freshList();
    await todo.add('a', 'b', 'c');
    await todo.expectTitles(['a', 'b', 'c']);
    expect(await todo.clearCompleted.isVisible()).toBe(false);
    await todo.toggle('a');
    await todo.toggle('c');
    await expect.poll(() => todo.clearCompleted.isVisible(), { timeout: UI_TIMEOUT_MS }).toBe(true);
    await todo.clearCompleted.click();
    await todo.expectTitles(['b']);
    await expect.poll(() => todo.clearCompleted.isVisible(), { timeout: UI_TIMEOUT_MS }).toBe(false);
  });

  it('deletes an item with its destroy button', async () => {
    const todo = await freshList();
    await todo.add('a', 'b', 'c');
    await todo.expectTitles(['a', 'b', 'c']);
    await todo.destroy('b');
    await todo.expectTitles(['a', 'c']);
  });

  it('routes the filters by hash and marks the current one selected', async () => {
    const todo = await freshList();
    const { page } = todo;
    await todo.add('active one', 'done one', 'active two');
    await todo.expectTitles(['active one', 'done one', 'active two']);
    await todo.toggle('done one');
    await todo.expectCompleted(['done one']);

    const links = await todo.filters.evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    expect(links).toEqual([
      ['All', '#/'],
      ['Active', '#/active'],
      ['Completed', '#/completed'],
    ]);
    const selected = () => page.locator('.filters a.selected').allTextContents();
    await expect.poll(selected, { timeout: UI_TIMEOUT_MS }).toEqual(['All']);

    await todo.filters.filter({ hasText: 'Active' }).click();
    await page.waitForURL((url) => url.hash === '#/active');
    await todo.expectTitles(['active one', 'active two']);
    await expect.poll(selected, { timeout: UI_TIMEOUT_MS }).toEqual(['Active']);

    await todo.filters.filter({ hasText: 'Completed' }).click();
    await page.waitForURL((url) => url.hash === '#/completed');
    await todo.expectTitles(['done one']);
    await expect.poll(selected, { timeout: UI_TIMEOUT_MS }).toEqual(['Completed']);

    // An item that stops matching the filter leaves the view.
    await todo.toggle('done one');
    await todo.expectTitles([]);

    await page.goBack();
    await page.waitForURL((url) => url.hash === '#/active');
    await todo.expectTitles(['active one', 'done one', 'active two']);
    await expect.poll(selected, { timeout: UI_TIMEOUT_MS }).toEqual(['Active']);

    await todo.filters.filter({ hasText: 'All' }).click();
    await page.waitForURL((url) => url.hash === '#/');
    await expect.poll(selected, { timeout: UI_TIMEOUT_MS }).toEqual(['All']);

    // A route typed into the address bar, loaded from scratch.
    await todo.toggle('active two');
    await page.goto(`${todo.listUrl()}#/completed`);
    await page.reload();
    await todo.expectTitles(['active two']);
    await expect.poll(selected, { timeout: UI_TIMEOUT_MS }).toEqual(['Completed']);
  });

  it('hides .main and .footer while the list is empty', async () => {
    const todo = await freshList();
    // Both read at one instant: two isVisible() calls are two moments apart.
    // (list-flicker.test.ts checks that no rendered frame hides a non-empty list.)
    const shown = () =>
      todo.page.evaluate(() => ['.main', '.footer'].map((selector) => (document.querySelector(selector)?.getClientRects().length ?? 0) > 0));
    expect(await shown()).toEqual([false, false]);
    await todo.add('a');
    await expect.poll(shown, { timeout: UI_TIMEOUT_MS }).toEqual([true, true]);
    await todo.destroy('a');
    await expect.poll(shown, { timeout: UI_TIMEOUT_MS }).toEqual([false, false]);
  });

  it('edits on double-click; the edit field holds the title and hides the other controls', async () => {
    const todo = await freshList();
    await todo.add('Buy milk', 'Walk the dog');
    await todo.expectTitles(['Buy milk', 'Walk the dog']);
    const li = await todo.startEditing('Buy milk');
    await expect.poll(() => li.getAttribute('class'), { timeout: UI_TIMEOUT_MS }).toMatch(/\bediting\b/);
    const edit = li.locator('.edit');
    expect(await edit.inputValue()).toBe('Buy milk');
    await expect.poll(() => edit.evaluate((el) => el === document.activeElement), { timeout: UI_TIMEOUT_MS }).toBe(true);
    expect(await li.locator('.toggle').isVisible()).toBe(false);
    expect(await li.locator('label').isVisible()).toBe(false);
    expect((await todo.item('Walk the dog').getAttribute('class')) ?? '').not.toMatch(/\bediting\b/);
  });

  it('saves an edit on Enter and on blur, trimmed', async () => {
    const todo = await freshList();
    await todo.add('first', 'second');
    await todo.expectTitles(['first', 'second']);

    let li = await todo.startEditing('first');
    await li.locator('.edit').fill('  first, edited  ');
    await li.locator('.edit').press('Enter');
    await todo.expectTitles(['first, edited', 'second']);
    expect(await todo.page.locator('.todo-list li.editing').count()).toBe(0);

    li = await todo.startEditing('second');
    await li.locator('.edit').fill('  second, edited ');
    await todo.newTodo.click();
    await todo.expectTitles(['first, edited', 'second, edited']);
    expect(await todo.page.locator('.todo-list li.editing').count()).toBe(0);
  });

  it('cancels an edit on Escape', async () => {
    const todo = await freshList();
    await todo.add('keep me');
    await todo.expectTitles(['keep me']);
    const li = await todo.startEditing('keep me');
    await li.locator('.edit').fill('changed');
    await li.locator('.edit').press('Escape');
    await expect.poll(() => todo.page.locator('.todo-list li.editing').count(), { timeout: UI_TIMEOUT_MS }).toBe(0);
    await todo.expectTitles(['keep me']);
    // And the cancelled text does not come back through a later blur or reload.
    await todo.newTodo.click();
    await todo.page.reload();
    await todo.expectTitles(['keep me']);
  });

  it('deletes an item whose edit ends empty', async () => {
    const todo = await freshList();
    await todo.add('a', 'b');
    await todo.expectTitles(['a', 'b']);
    const li = await todo.startEditing('a');
    await li.locator('.edit').fill('   ');
    await li.locator('.edit').press('Enter');
    await todo.expectTitles(['b']);
  });

  it('keeps the items and their state across a reload', async () => {
    const todo = await freshList();
    await todo.add('a', 'b', 'c');
    await todo.toggle('b');
    await todo.expectCompleted(['b']);
    const url = todo.page.url();
    await todo.page.reload();
    expect(todo.page.url()).toBe(url);
    await todo.expectTitles(['a', 'b', 'c']);
    await todo.expectCompleted(['b']);
  });
});
