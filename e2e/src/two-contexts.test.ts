import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

// Two browser profiles (separate storage, separate engines) on one list URL.
const demo = useDemoSuite();

async function twoOnOneList(): Promise<[TodoPage, TodoPage]> {
  const a = await TodoPage.openNewList(await demo.newContext(), demo.url);
  const b = await TodoPage.open(await demo.newContext(), a.listUrl());
  await a.expectConnection('connected');
  await b.expectConnection('connected');
  return [a, b];
}

describe('two browser contexts on one list', () => {
  it('propagate adds, toggles, edits and deletes both ways', async () => {
    const [a, b] = await twoOnOneList();

    await a.add('from a');
    await b.expectTitles(['from a']);
    await b.add('from b');
    await a.expectTitles(['from a', 'from b']);

    await a.toggle('from b');
    await b.expectCompleted(['from b']);
    await b.toggle('from a');
    await a.expectCompleted(['from a', 'from b']);
    await a.toggle('from a');
    await b.expectCompleted(['from b']);

    const edit = async (todo: TodoPage, from: string, to: string) => {
      const li = await todo.startEditing(from);
      await li.locator('.edit').fill(to);
      await li.locator('.edit').press('Enter');
    };
    await b.expectTitles(['from a', 'from b']);
    await edit(b, 'from a', 'from a, edited by b');
    await a.expectTitles(['from a, edited by b', 'from b']);
    await edit(a, 'from b', 'from b, edited by a');
    await b.expectTitles(['from a, edited by b', 'from b, edited by a']);

    await a.destroy('from a, edited by b');
    await b.expectTitles(['from b, edited by a']);
    await b.destroy('from b, edited by a');
    await a.expectTitles([]);
    await b.expectTitles([]);
  });

  it('converge to the same items in the same order after concurrent adds', async () => {
    const [a, b] = await twoOnOneList();
    const n = 6;
    const titles = (who: string) => Array.from({ length: n }, (_, i) => `${who} ${i + 1}`);
    // Both type at once; the server decides one order and both must show it.
    await Promise.all([a.add(...titles('a')), b.add(...titles('b'))]);

    const everything = [...titles('a'), ...titles('b')].sort();
    for (const todo of [a, b]) {
      await expect.poll(async () => (await todo.titles()).sort(), { timeout: UI_TIMEOUT_MS }).toEqual(everything);
    }
    // With every item present and nothing pending, each side shows the server's state.
    await a.expectNothingPending();
    await b.expectNothingPending();
    const order = await a.titles();
    await b.expectTitles(order);
    // Each side's own items keep the order they were typed in.
    for (const who of ['a', 'b']) expect(order.filter((t) => t.startsWith(`${who} `))).toEqual(titles(who));
    // The converged order survives a reload of either side (it is the server's order, not a local guess).
    await b.page.reload();
    await b.expectTitles(order);
  });
});
