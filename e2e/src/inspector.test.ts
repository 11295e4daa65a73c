import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

const demo = useDemoSuite();

describe('the inspector panel', () => {
  it('is collapsed at first; open, it shows a todo added while the server is unreachable as pending, the failed retries, and the todo confirmed once the server is back', async () => {
    const gate = await demo.newGate();
    const todo = await TodoPage.openNewList(await demo.newContext(), gate.origin);
    const page = todo.page;
    await todo.add('first');
    await todo.expectNothingPending();

    // Collapsed: nothing of the inspection is rendered (or watched).
    await expect.poll(() => page.getByTestId('inspector-body').count()).toBe(0);
    await page.getByTestId('inspector-toggle').click();
    const body = page.getByTestId('inspector-body');
    await body.waitFor({ timeout: UI_TIMEOUT_MS });
    const lsn = Number(await todo.page.getByTestId('sync-status').getAttribute('data-lsn'));
    await expect.poll(() => page.getByTestId('inspector-lsn').getAttribute('data-lsn'), { timeout: UI_TIMEOUT_MS }).toBe(String(lsn));
    // The durable LSN can follow the LSN: a commit is applied before the notice that it is durable arrives.
    await expect.poll(() => page.getByTestId('inspector-durable-lsn').getAttribute('data-lsn'), { timeout: UI_TIMEOUT_MS }).toBe(String(lsn));
    expect(await page.getByTestId('inspector-connection').textContent()).toBe('connected');

    gate.block();
    await todo.expectSyncState('reconnecting');
    await todo.add('while the server is away');
    const pending = page.getByTestId('inspector-pending').locator('tbody tr');
    await expect.poll(() => pending.count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
    const row = pending.first();
    expect(await row.getAttribute('data-name')).toBe('addTodo');
    // A view taken between the call and its local apply shows it `waiting`.
    await expect.poll(() => row.getAttribute('data-state'), { timeout: UI_TIMEOUT_MS }).toBe('applied');
    expect(await row.locator('.inspector-args').textContent()).toContain('while the server is away');
    const seq = await row.getAttribute('data-seq');
    // The failed reconnects are among the recent errors.
    await expect
      .poll(() => page.getByTestId('inspector-errors').locator('li[data-source="connection"]').count(), { timeout: UI_TIMEOUT_MS })
      .toBeGreaterThan(0);

    gate.unblock();
    await todo.expectSyncState('connected', 20_000);
    await expect.poll(() => pending.count(), { timeout: UI_TIMEOUT_MS }).toBe(0);
    const settled = page.getByTestId('inspector-settled').locator(`tbody tr[data-seq="${seq}"]`);
    await expect.poll(() => settled.getAttribute('data-state'), { timeout: UI_TIMEOUT_MS }).toBe('confirmed');
    await expect.poll(async () => Number(await page.getByTestId('inspector-durable-lsn').getAttribute('data-lsn')), { timeout: UI_TIMEOUT_MS }).toBeGreaterThan(lsn);

    await page.getByTestId('inspector-toggle').click();
    await expect.poll(() => body.count()).toBe(0);
  });
});
