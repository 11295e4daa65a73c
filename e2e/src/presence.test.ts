import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

const demo = useDemoSuite();

/** A profile that goes by `name` (the demo keeps it in localStorage), optionally without SharedWorker. */
async function profile(name: string, options: { withoutSharedWorker?: boolean } = {}): Promise<BrowserContext> {
  const context = await demo.newContext();
  await context.addInitScript((stored) => {
    // Init scripts run in about:blank too, where localStorage is denied.
    if (location.protocol.startsWith('http')) localStorage.setItem('quire-demo:name', stored);
  }, name);
  if (options.withoutSharedWorker) await context.addInitScript(() => void delete (globalThis as { SharedWorker?: unknown }).SharedWorker);
  return context;
}

/** The names of the others a page shows on the list, sorted. */
const othersOf = (todo: TodoPage) => todo.page.locator('[data-testid="who-other"]').evaluateAll((items) => items.map((li) => li.getAttribute('data-name') ?? '').sort());

const expectOthers = (todo: TodoPage, names: string[]) => expect.poll(() => othersOf(todo), { timeout: UI_TIMEOUT_MS }).toEqual(names);

describe('presence', () => {
  it('two profiles see each other arrive, see a todo marked while the other edits it, see a new name, and see the other leave', async () => {
    const ann = await TodoPage.openNewList(await profile('Ann Lee'), demo.url);
    await ann.add('shared todo', 'another');
    expect(await ann.page.getByTestId('who-me').getAttribute('data-name')).toBe('Ann Lee');
    await expectOthers(ann, []);

    const bob = await TodoPage.open(await profile('Bob Stone'), ann.listUrl());
    await expectOthers(ann, ['Bob Stone']);
    await expectOthers(bob, ['Ann Lee']);
    expect(await ann.page.locator('[data-testid="who-other"] .avatar').textContent()).toBe('BS');

    // Bob opens the todo's edit field: Ann sees it marked with Bob's name, and only that todo.
    await bob.expectTitles(['shared todo', 'another']);
    await bob.startEditing('shared todo');
    const marked = ann.page.locator('.todo-list li.edited-elsewhere');
    await expect.poll(() => marked.getAttribute('data-edited-by'), { timeout: UI_TIMEOUT_MS }).toBe('Bob Stone');
    expect(await marked.locator('label').textContent()).toBe('shared todo');
    expect(await marked.count()).toBe(1);
    // Bob's own page does not mark what Bob edits.
    expect(await bob.page.locator('.todo-list li.edited-elsewhere').count()).toBe(0);
    await bob.page.keyboard.press('Escape');
    await expect.poll(() => marked.count(), { timeout: UI_TIMEOUT_MS }).toBe(0);

    // Ann changes her name: Bob sees the new one; Ann's next visit keeps it.
    await ann.page.getByTestId('who-me').click();
    await ann.page.getByTestId('who-name-input').fill('Ann Marie');
    await ann.page.getByTestId('who-name-input').press('Enter');
    await expectOthers(bob, ['Ann Marie']);
    expect(await ann.page.evaluate(() => localStorage.getItem('quire-demo:name'))).toBe('Ann Marie');

    await bob.page.close();
    await expectOthers(ann, []);
  });

  it('without SharedWorker, each tab of a profile is on the list, and the one left keeps its place when the leader tab closes', async () => {
    const ann = await TodoPage.openNewList(await profile('Ann Lee'), demo.url);
    await ann.add('first');
    const bobContext = await profile('Bob Stone', { withoutSharedWorker: true });
    const bob1 = await TodoPage.open(bobContext, ann.listUrl());
    await bob1.expectConnection('connected');
    const bob2 = await TodoPage.open(bobContext, ann.listUrl());
    await bob2.expectTitles(['first']);
    // Two tabs, one engine and connection, two states.
    await expectOthers(ann, ['Bob Stone', 'Bob Stone']);
    // Each tab sees the profile's other tab.
    await expectOthers(bob2, ['Ann Lee', 'Bob Stone']);

    // The leader tab closes: its engine and socket go, and the remaining tab's state goes
    // through the next leader's (tests/browser-engine/worker-client.test.ts proves the resend alone).
    await bob1.page.close();
    await expectOthers(ann, ['Bob Stone']);
    await expectOthers(bob2, ['Ann Lee']);
    await bob2.startEditing('first');
    await expect.poll(() => ann.page.locator('.todo-list li.edited-elsewhere').getAttribute('data-edited-by'), { timeout: UI_TIMEOUT_MS }).toBe('Bob Stone');
  });
});
