import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startHarness, waitForSettled, expectSamePages, type Harness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

describe('optimistic apply', () => {
  let h: Harness<TodoReducers>;
  beforeEach(async () => {
    h = await startHarness(todoReducers);
  });
  afterEach(() => h.close());

  test('a mutation shows in local queries before the server answers', async () => {
    const a = h.client();
    await a.mutate.init().server;
    const handle = a.mutate.addTodo({ id: 't1', title: 'milk' });
    let serverAnswered = false;
    void handle.server.then(() => (serverAnswered = true));
    await handle.local;
    const rows = await a.query('SELECT id, title FROM todos');
    expect(serverAnswered).toBe(false);
    expect(a.status().pending).toBe(1);
    expect(rows).toEqual([{ id: 't1', title: 'milk' }]);
    const { lsn } = await handle.server;
    expect(lsn).toBeGreaterThan(0);
    await waitForSettled(a, h.server);
    await expectSamePages(a, h.server);
  });

  test('mutations made before the connection opens apply locally and sync later', async () => {
    const a = h.client();
    a.mutate.init();
    a.mutate.addTodo({ id: 'x', title: 'offline first' });
    expect(await a.query('SELECT title FROM todos')).toEqual([{ title: 'offline first' }]);
    const b = h.client();
    await waitFor(async () => (await b.query("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'todos'"))[0]?.n === 1 && (await b.query('SELECT title FROM todos')).length === 1, 'b to see the todo');
    expect(await b.query('SELECT title FROM todos')).toEqual([{ title: 'offline first' }]);
  });

  test('subscriptions fire with the optimistic rows and again only when rows change', async () => {
    const a = h.client();
    await a.mutate.init().server;
    const seen: unknown[] = [];
    const unsubscribe = a.subscribe('SELECT title FROM todos ORDER BY title', [], (rows) => seen.push(rows));
    await waitFor(() => seen.length === 1, 'initial rows');
    expect(seen[0]).toEqual([]);
    await a.mutate.addTodo({ id: '1', title: 'a' }).local;
    await waitFor(() => seen.length === 2, 'optimistic rows');
    expect(seen[1]).toEqual([{ title: 'a' }]);
    await waitForSettled(a, h.server);
    // The server's confirmation changes pages, not rows: no extra notification.
    expect(seen.length).toBe(2);
    unsubscribe();
  });
});
