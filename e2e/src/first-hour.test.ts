import { describe, expect, it } from 'vitest';
import { createClient } from '@quire/core';
import { reducers } from '../../apps/todo-demo/src/reducers.js';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';
import { waitUntil } from './harness/wait-until.js';
import { syncUrlOf } from './measure/seed-list.js';

// What a newcomer meets in the first minutes: the sync bar in words, lists that
// cost nothing to look at, a clear page for a broken link, and a phone screen.
const demo = useDemoSuite();

/** The LSN of list `listId` on the server, read by a Node client that only looks. */
async function serverLsn(listId: string): Promise<number> {
  const client = createClient({ url: syncUrlOf(demo.url), docId: listId, reducers });
  try {
    await waitUntil(async () => client.status(), (s) => s.connection === 'connected', `a Node client to connect to list ${listId}`, UI_TIMEOUT_MS);
    return client.status().lsn;
  } finally {
    await client.close();
  }
}

const barText = (todo: TodoPage) => todo.syncStatus.innerText();

describe("a newcomer's first hour", () => {
  it('opening a list, and opening it again elsewhere, queues and writes nothing', async () => {
    const a = await TodoPage.openNewList(await demo.newContext(), demo.url);
    await a.expectConnection('connected');
    const b = await TodoPage.open(await demo.newContext(), a.listUrl());
    await b.expectConnection('connected');
    await a.page.reload();
    await a.expectConnection('connected');
    for (const todo of [a, b]) {
      expect(await todo.page.getByTestId('sync-pending').getAttribute('data-pending')).toBe('0');
      expect(await todo.lsn()).toBe(0);
    }
    // Had opening queued a mutation (the old init call), the server would be at LSN 1 or more.
    expect(await serverLsn(a.listId())).toBe(0);

    // The first todo is the first write, and creates the list for everyone.
    await a.add('first');
    await b.expectTitles(['first']);
    await a.expectNothingPending();
    expect(await serverLsn(a.listId())).toBe(1);
  });

  it('tells apart connected, offline by choice and an unreachable server, and counts unsaved changes in words', async () => {
    const gate = await demo.newGate();
    const todo = await TodoPage.openNewList(await demo.newContext(), gate.origin);
    await todo.expectSyncState('connected');
    expect(await barText(todo)).toMatch(/^Connected\s+All changes saved$/);

    await todo.goOffline();
    await todo.expectSyncState('offline-by-choice');
    await todo.add('one');
    await expect.poll(() => barText(todo), { timeout: UI_TIMEOUT_MS }).toMatch(/^Offline by choice\s+1 change not yet saved$/);
    await todo.goOnline();
    await todo.expectSyncState('connected');
    await todo.expectNothingPending();

    // The server stops answering: not the user's choice, and the client keeps retrying.
    gate.block();
    await todo.expectSyncState('reconnecting');
    await todo.add('two', 'three');
    await expect.poll(() => barText(todo), { timeout: UI_TIMEOUT_MS }).toMatch(/^Reconnecting: server unreachable\s+2 changes not yet saved$/);
    expect(await todo.syncToggle.textContent()).toBe('Go offline');
    gate.unblock();
    await todo.expectSyncState('connected', 20_000);
    await todo.expectNothingPending();
    expect(await barText(todo)).toMatch(/^Connected\s+All changes saved$/);
    // A version number means nothing to a user.
    expect(await todo.page.locator('.sync-bar').innerText()).not.toMatch(/\blsn\b/i);
  });

  it('shows an error page with a link to a new list for an invalid list id, and opens no list', async () => {
    const gate = await demo.newGate();
    const context = await demo.newContext();
    const page = await context.newPage();
    for (const given of ['not a list!', '', 'x'.repeat(129)]) {
      const url = new URL(gate.origin);
      url.searchParams.set('list', given);
      await page.goto(url.href);
      const error = page.getByTestId('invalid-list');
      await error.waitFor();
      expect(await error.getAttribute('role')).toBe('alert');
      expect(await error.innerText()).toContain('This list address is not valid');
      // The address stays as typed, so the user can see what is wrong with it.
      expect(new URL(page.url()).searchParams.get('list')).toBe(given);
      expect(await page.locator('.new-todo').count()).toBe(0);
    }
    expect(gate.syncOpened).toBe(0);

    await page.getByTestId('new-list-link').click();
    await page.waitForURL((u) => /^[A-Za-z0-9_-]{22}$/.test(u.searchParams.get('list') ?? ''));
    const todo = new TodoPage(page);
    await todo.expectConnection('connected');
    await todo.add('works');
    await todo.expectTitles(['works']);
  });

  it('fits a 390 px wide phone screen: nothing overflows sideways and the sync bar stays clear of the app', async () => {
    const gate = await demo.newGate();
    const context = await demo.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const todo = await TodoPage.openNewList(context, gate.origin);
    const { page } = todo;
    await todo.add('A todo with a title long enough to wrap onto a second line on a phone', 'short');
    await todo.expectTitles(['A todo with a title long enough to wrap onto a second line on a phone', 'short']);

    const layout = () =>
      page.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
        const bar = box('.sync-bar');
        const heading = box('.todoapp h1');
        const input = box('.new-todo');
        return {
          scrollWidth: document.documentElement.scrollWidth,
          barInside: bar.left >= 0 && bar.right <= window.innerWidth,
          // The bar must not cover the heading's letters or the input.
          barClear: bar.bottom <= heading.top + heading.height * 0.2 && bar.bottom <= input.top,
        };
      });
    const fits = { scrollWidth: 390, barInside: true, barClear: true };
    expect(await layout()).toEqual(fits);
    await todo.expectNothingPending();

    // The longest bar: reconnecting, with changes waiting.
    gate.block();
    await todo.expectSyncState('reconnecting');
    await todo.add('three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve');
    await expect.poll(() => barText(todo), { timeout: UI_TIMEOUT_MS }).toContain('10 changes not yet saved');
    expect(await layout()).toEqual(fits);
    gate.unblock();
    await todo.goOffline();
    expect(await layout()).toEqual(fits);
  });
});
