import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

// The demo's replicas are partial: pages come as the app reads them. "Save
// for offline" fetches the rest with progress; the SQL panel shows what each
// query cost.
const demo = useDemoSuite();

describe('partial replicas in the demo', () => {
  it('"Save for offline" fetches the whole list with progress, and the SQL panel shows what a query cost', async () => {
    const a = await TodoPage.openNewList(await demo.newContext(), demo.url);
    // Long titles, so the list spans several pages.
    const titles = Array.from({ length: 30 }, (_, i) => `item ${String(i).padStart(2, '0')} ${'·'.repeat(400)}`);
    await a.add(...titles);
    await a.expectTitles(titles);
    await a.expectNothingPending();

    const b = await TodoPage.open(await demo.newContext(), a.listUrl());
    await b.expectTitles(titles);

    const cost = b.page.getByTestId('sql-cost');
    await expect.poll(() => cost.textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/^First run read \d+ pages?; fetched \d+ pages? from the server in \d+ round trips?\.$/);

    await b.page.getByTestId('offline-save').click();
    const saved = b.page.getByTestId('offline-saved');
    await expect.poll(() => saved.isVisible(), { timeout: UI_TIMEOUT_MS }).toBe(true);
    const total = Number((await saved.textContent())!.match(/saved, (\d+) pages/)![1]);
    expect(total).toBeGreaterThan(10);

    // Everything is local now: offline, any query over the list runs.
    await b.goOffline();
    await b.page.getByTestId('sql-input').fill('SELECT count(*) AS n, sum(length(title)) AS chars FROM todos');
    await b.page.getByTestId('sql-run').click();
    await expect
      .poll(() => b.page.getByTestId('sql-results').locator('tbody td').allTextContents(), { timeout: UI_TIMEOUT_MS })
      .toEqual(['30', String(titles.reduce((sum, t) => sum + t.length, 0))]);
  });
});
