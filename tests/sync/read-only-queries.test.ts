import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { QuireError, type QuireClient } from '@quire/core';
import { type Harness, startHarness, waitForSettled } from '../helpers/sync-harness.js';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

// query(), measureQuery() and live queries read the local replica: a write
// there would change this replica only, and vanish at the next rebase.
let h: Harness<TodoReducers>;
let client: QuireClient<TodoReducers>;
const titles = () => client.query<{ title: string }>('SELECT title FROM todos ORDER BY id').then((rows) => rows.map((r) => r.title));

beforeEach(async () => {
  h = await startHarness(todoReducers);
  client = h.client({ partial: true });
  await client.mutate.init().server;
  await client.mutate.addTodo({ id: '1', title: 'one' }).server;
  await client.mutate.addTodo({ id: '2', title: 'two' }).server;
});
afterEach(() => h.close());

describe('queries only read', () => {
  test('query() refuses DELETE with read_only_query, and the replica keeps its rows', async () => {
    const error = await client.query('DELETE FROM todos').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuireError);
    expect(error).toMatchObject({ code: 'read_only_query' });
    expect((error as Error).message).toMatch(/client\.mutate/);
    expect(await titles()).toEqual(['one', 'two']);
    await expect(client.query('SELECT 1 AS x; UPDATE todos SET title = 1')).rejects.toMatchObject({ code: 'read_only_query' });
    await expect(client.measureQuery("INSERT INTO todos (id, title) VALUES ('3', 'x')")).rejects.toMatchObject({ code: 'read_only_query' });
    await expect(client.query('BEGIN')).rejects.toMatchObject({ code: 'read_only_query' });
    // The engine still works: no transaction was left open, and mutations apply and sync.
    await client.mutate.addTodo({ id: '3', title: 'three' }).server;
    await waitForSettled(client, h.server);
    expect(await titles()).toEqual(['one', 'two', 'three']);
  });

  test('a live query that would write reports read_only_query to its error listener', async () => {
    const errors: unknown[] = [];
    const rows: unknown[] = [];
    const stop = client.subscribe('DELETE FROM todos RETURNING id', [], (r) => rows.push(r), (e) => errors.push(e));
    await waitFor(() => errors.length > 0, 'the live query to fail');
    expect(errors[0]).toMatchObject({ code: 'read_only_query' });
    expect(rows).toEqual([]);
    stop();
    expect(await titles()).toEqual(['one', 'two']);
  });
});
