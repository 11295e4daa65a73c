import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import { framesLosingTodos, listFrames, recordListFrames } from './harness/list-recorder.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

// Every rendered state of the list, not only the ones a poll happens to see:
// a rebase must never show a list without the user's own pending todos.
const demo = useDemoSuite();

async function recordedContext() {
  const context = await demo.newContext();
  await recordListFrames(context);
  return context;
}

describe('the list while the server confirms edits', () => {
  it('a new list keeps its first todos on screen through its first commits', async () => {
    for (let round = 0; round < 3; round++) {
      const todo = await TodoPage.openNewList(await recordedContext(), demo.url);
      await todo.add('a', 'b');
      await todo.expectTitles(['a', 'b']);
      await todo.expectNothingPending();
      const frames = await listFrames(todo.page);
      expect(framesLosingTodos(frames), `round ${round}`).toEqual([]);
      await todo.page.context().close();
    }
  });

  it('never drops a todo, or hides .main and .footer, while concurrent adds rebase', async () => {
    const a = await TodoPage.openNewList(await recordedContext(), demo.url);
    const b = await TodoPage.open(await recordedContext(), a.listUrl());
    await a.expectConnection('connected');
    await b.expectConnection('connected');
    const n = 15;
    const titles = (who: string) => Array.from({ length: n }, (_, i) => `${who} ${i + 1}`);
    // Both type at once: commits from the other profile arrive while each has adds pending.
    await Promise.all([a.add(...titles('a')), b.add(...titles('b'))]);
    const everything = [...titles('a'), ...titles('b')].sort();
    for (const todo of [a, b]) {
      await expect.poll(async () => (await todo.titles()).sort(), { timeout: UI_TIMEOUT_MS }).toEqual(everything);
      await todo.expectNothingPending();
    }

    for (const todo of [a, b]) {
      const frames = await listFrames(todo.page);
      // The recorder saw the list grow to its end (React may batch several changes into one frame).
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.at(-1)!.ids).toHaveLength(2 * n);
      // Nothing was deleted, so no frame may lose a todo the frame before showed.
      expect(framesLosingTodos(frames)).toEqual([]);
      // .main and .footer come and go together, with the items.
      expect(frames.filter((f) => f.main !== f.ids.length > 0 || f.footer !== f.ids.length > 0)).toEqual([]);
    }
  });
});
