import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

// The demo's live, read-only SQL console over the local replica.
const demo = useDemoSuite();

/** Submits `sql` in the panel. */
async function runSql(page: Page, sql: string): Promise<void> {
  await page.getByTestId('sql-input').fill(sql);
  await page.getByTestId('sql-run').click();
}

/** The result table as header + rows of cell texts, or null when no table is shown. */
function resultTable(page: Page): Promise<string[][] | null> {
  return page.evaluate(() => {
    const table = document.querySelector('[data-testid="sql-panel"] [data-testid="sql-results"]');
    if (!table) return null;
    const head = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
    return [head, ...rows];
  });
}

describe('SQL panel', () => {
  it('shows live results of a SELECT that follow local and remote changes', async () => {
    const a = await TodoPage.openNewList(await demo.newContext(), demo.url);
    await a.add('alpha');
    await a.expectTitles(['alpha']);
    await runSql(a.page, 'SELECT title, completed FROM todos ORDER BY position');
    const table = () => resultTable(a.page);
    await expect.poll(table, { timeout: UI_TIMEOUT_MS }).toEqual([['title', 'completed'], ['alpha', '0']]);

    await a.add('beta');
    await expect.poll(table, { timeout: UI_TIMEOUT_MS }).toEqual([['title', 'completed'], ['alpha', '0'], ['beta', '0']]);
    await expect.poll(() => a.page.getByTestId('sql-row-count').getAttribute('data-count'), { timeout: UI_TIMEOUT_MS }).toBe('2');

    await a.toggle('alpha');
    await expect.poll(table, { timeout: UI_TIMEOUT_MS }).toEqual([['title', 'completed'], ['alpha', '1'], ['beta', '0']]);

    // A change made in another browser arrives through sync and updates the result too.
    const b = await TodoPage.open(await demo.newContext(), a.listUrl());
    await b.expectTitles(['alpha', 'beta']);
    await b.add('gamma');
    await expect
      .poll(table, { timeout: UI_TIMEOUT_MS })
      .toEqual([['title', 'completed'], ['alpha', '1'], ['beta', '0'], ['gamma', '0']]);
  });

  it('refuses statements that are not SELECTs with a visible error, and writes nothing', async () => {
    const a = await TodoPage.openNewList(await demo.newContext(), demo.url);
    await a.add('keep me');
    await a.expectTitles(['keep me']);
    const error = a.page.getByTestId('sql-error');
    const errorText = async () => ((await error.isVisible()) ? await error.textContent() : '');

    for (const sql of ['DELETE FROM todos', "INSERT INTO todos (id, title, position) VALUES ('x', 'sneaky', 99)", 'DROP TABLE todos']) {
      await runSql(a.page, sql);
      // The refusal names this statement's keyword, so a stale message from the previous one does not count.
      const keyword = sql.split(' ')[0]!;
      await expect.poll(errorText, { timeout: UI_TIMEOUT_MS }).toContain(keyword);
      expect(await error.getAttribute('data-kind')).toBe('refused');
      expect(await error.textContent()).toMatch(/SELECT/);
      // SQLite in the worker refused it (read_only_query), not a guard in the page.
      expect(await error.textContent()).toMatch(/SQLite refused .* use SELECT to read; change data by calling a reducer/);
      expect(await resultTable(a.page)).toBeNull();
    }
    // A write hidden behind a WITH clause must fail as well.
    await runSql(a.page, 'WITH doomed AS (SELECT id FROM todos) DELETE FROM todos WHERE id IN doomed');
    await expect.poll(errorText, { timeout: UI_TIMEOUT_MS }).toContain('WITH doomed');
    expect(await error.getAttribute('data-kind')).toBe('refused');
    // A write after a read in one string is refused as a whole.
    await runSql(a.page, 'SELECT 1; DELETE FROM todos');
    await expect.poll(errorText, { timeout: UI_TIMEOUT_MS }).toContain('SELECT 1; DELETE');
    expect(await error.getAttribute('data-kind')).toBe('refused');

    // The list is intact, and a SELECT clears the error.
    await runSql(a.page, 'SELECT title FROM todos');
    await expect.poll(() => resultTable(a.page), { timeout: UI_TIMEOUT_MS }).toEqual([['title'], ['keep me']]);
    expect(await error.count()).toBe(0);
    await a.page.reload();
    await a.expectTitles(['keep me']);
  });
});
