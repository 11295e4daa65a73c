import { StrictMode, memo } from 'react';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import type { QuireClient, Reducers, SqlParams } from '@quire/core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { FakeClient } from '../test/fake-client.js';
import { engineIdle, offlineClient, type Todo } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { useQuery, type QueryOptions } from './use-query.js';
import type { QueryState } from './query-state.js';

afterEach(cleanup);

const TODOS = 'SELECT id, title, done FROM todos ORDER BY id';

/** Renders useQuery and records every state it rendered. */
function renderQuery(client: QuireClient<Reducers>, sql: string, params?: SqlParams, options?: QueryOptions<Todo>, strict = false) {
  const states: QueryState<Todo>[] = [];
  function Probe(props: { sql: string; params?: SqlParams | undefined; options?: QueryOptions<Todo> | undefined }) {
    const state = useQuery<Todo>(props.sql, props.params, props.options);
    states.push(state);
    return <p data-testid="status">{state.status}</p>;
  }
  const tree = (p: { sql: string; params?: SqlParams | undefined; options?: QueryOptions<Todo> | undefined }) => {
    const app = (
      <QuireProvider client={client}>
        <Probe {...p} />
      </QuireProvider>
    );
    return strict ? <StrictMode>{app}</StrictMode> : app;
  };
  const view = render(tree({ sql, params, options }));
  return {
    states,
    last: () => states[states.length - 1]!,
    rerender: (p: { sql: string; params?: SqlParams; options?: QueryOptions<Todo> }) => view.rerender(tree(p)),
    unmount: () => view.unmount(),
  };
}

describe('useQuery with a real client', () => {
  test('shows the rows of the local replica and follows mutations', async () => {
    const client = await offlineClient([{ id: 'a', title: 'milk' }]);
    const q = renderQuery(client, TODOS);
    expect(q.last().status).toBe('loading');
    await waitFor(() => expect(q.last().rows).toEqual([{ id: 'a', title: 'milk', done: 0 }]));
    await act(async () => {
      await client.mutate.addTodo({ id: 'b', title: 'eggs' }).local;
    });
    await waitFor(() => expect(q.last().rows?.map((r) => r.id)).toEqual(['a', 'b']));
    expect(q.last()).toMatchObject({ status: 'ready', error: undefined });
    await client.close();
  });

  test('memoised rows that did not change do not re-render', async () => {
    const client = await offlineClient([
      { id: 'a', title: 'milk' },
      { id: 'b', title: 'eggs' },
      { id: 'c', title: 'bread' },
    ]);
    const itemRenders: Record<string, number> = {};
    const Item = memo(function Item({ todo }: { todo: Todo }) {
      itemRenders[todo.id] = (itemRenders[todo.id] ?? 0) + 1;
      return <li>{`${todo.title}:${todo.done}`}</li>;
    });
    let listRenders = 0;
    let seen: (readonly Todo[])[] = [];
    function List() {
      listRenders++;
      const { rows } = useQuery<Todo>(TODOS);
      if (rows) seen.push(rows);
      return <ul>{rows?.map((todo) => <Item key={todo.id} todo={todo} />)}</ul>;
    }
    render(
      <QuireProvider client={client}>
        <List />
      </QuireProvider>,
    );
    await screen.findByText('bread:0');
    expect(itemRenders).toEqual({ a: 1, b: 1, c: 1 });
    const before = seen[seen.length - 1]!;

    await act(async () => {
      await client.mutate.toggle({ id: 'b' }).local;
    });
    await screen.findByText('eggs:1');
    expect(itemRenders).toEqual({ a: 1, b: 2, c: 1 });
    const after = seen[seen.length - 1]!;
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).toBe(before[2]);

    // A mutation elsewhere in the document does not re-render the list at all.
    const rendersBefore = listRenders;
    seen = [];
    await act(async () => {
      await client.mutate.addNote({ id: 'n', body: 'hello' }).local;
      await engineIdle(client);
    });
    expect(listRenders).toBe(rendersBefore);
    await client.close();
  });

  test('with rowKey, rows keep their identity when others are inserted before them', async () => {
    const client = await offlineClient([
      { id: 'b', title: 'eggs' },
      { id: 'c', title: 'bread' },
    ]);
    const q = renderQuery(client, TODOS, undefined, { rowKey: 'id' });
    await waitFor(() => expect(q.last().rows).toHaveLength(2));
    const before = q.last().rows!;
    await act(async () => {
      await client.mutate.addTodo({ id: 'a', title: 'milk' }).local;
    });
    await waitFor(() => expect(q.last().rows).toHaveLength(3));
    const after = q.last().rows!;
    expect(after[1]).toBe(before[0]);
    expect(after[2]).toBe(before[1]);
    await client.close();
  });

  test('results are frozen', async () => {
    const client = await offlineClient([{ id: 'a', title: 'milk' }]);
    const q = renderQuery(client, TODOS);
    await waitFor(() => expect(q.last().status).toBe('ready'));
    const rows = q.last().rows!;
    expect(Object.isFrozen(rows)).toBe(true);
    expect(Object.isFrozen(rows[0])).toBe(true);
    expect(Object.isFrozen(q.last())).toBe(true);
    await client.close();
  });

  test('a bad query gives status error with the error, and the same failure does not re-render', async () => {
    const client = await offlineClient();
    const q = renderQuery(client, 'SELECT * FROM no_such_table');
    await waitFor(() => expect(q.last().status).toBe('error'));
    expect(q.last().rows).toBeUndefined();
    expect(String(q.last().error)).toMatch(/no such table: no_such_table/);
    const renders = q.states.length;
    // The engine re-runs the query after the mutation and fails the same way.
    await act(async () => {
      await client.mutate.addTodo({ id: 'a', title: 'milk' }).local;
      await engineIdle(client);
    });
    expect(q.states.length).toBe(renders);
    await client.close();
  });

  test('StrictMode double mounting still gets the rows', async () => {
    const client = await offlineClient([{ id: 'a', title: 'milk' }]);
    const q = renderQuery(client, TODOS, undefined, undefined, true);
    await waitFor(() => expect(q.last().rows).toEqual([{ id: 'a', title: 'milk', done: 0 }]));
    await client.close();
  });
});

describe('useQuery re-render and subscription rules', () => {
  const row = (id: string, title = id) => ({ id, title, done: 0 });

  test('re-renders only when a notification changes the rows', () => {
    const client = new FakeClient();
    const q = renderQuery(client, TODOS);
    expect(q.states.length).toBe(1);
    act(() => client.emit(TODOS, [row('a'), row('b')]));
    expect(q.states.length).toBe(2);
    const rows = q.last().rows;

    act(() => client.emit(TODOS, [row('a'), row('b')]));
    act(() => client.emit(TODOS, [row('a'), row('b')]));
    expect(q.states.length).toBe(2);
    expect(q.last().rows).toBe(rows);

    act(() => client.emit(TODOS, [row('a'), row('b', 'B')]));
    expect(q.states.length).toBe(3);
    expect(q.last().rows![0]).toBe(rows![0]);
    expect(q.last().rows![1]).toEqual(row('b', 'B'));
  });

  test('an error is re-rendered once per distinct failure, and rows come back after it', () => {
    const client = new FakeClient();
    const q = renderQuery(client, TODOS);
    act(() => client.emit(TODOS, [row('a')]));
    const rows = q.last().rows;
    act(() => client.fail(TODOS, new Error('disk on fire')));
    act(() => client.fail(TODOS, new Error('disk on fire')));
    expect(q.states.length).toBe(3);
    expect(q.last()).toMatchObject({ status: 'error', rows });
    expect((q.last().error as Error).message).toBe('disk on fire');
    act(() => client.fail(TODOS, new Error('out of memory')));
    expect(q.states.length).toBe(4);
    act(() => client.emit(TODOS, [row('a')]));
    expect(q.last()).toEqual({ status: 'ready', rows, error: undefined });
    expect(q.last().rows).toBe(rows);
  });

  test('StrictMode double mounts leak no subscription', () => {
    const client = new FakeClient();
    const q = renderQuery(client, TODOS, [1], undefined, true);
    expect(client.active.length).toBe(1);
    expect(client.subscriptions.length - client.unsubscribeCalls).toBe(1);
    act(() => client.emit(TODOS, [row('a')]));
    expect(q.last().status).toBe('ready');
    q.rerender({ sql: TODOS, params: [2] });
    expect(client.active.length).toBe(1);
    expect(client.active[0]!.params).toEqual([2]);
    q.unmount();
    expect(client.active.length).toBe(0);
    expect(client.unsubscribeCalls).toBe(client.subscriptions.length);
  });

  test('params are compared by value; new params or sql resubscribe', () => {
    const client = new FakeClient();
    const q = renderQuery(client, TODOS, ['x', 1n]);
    act(() => client.emit(TODOS, [row('a')]));
    q.rerender({ sql: TODOS, params: ['x', 1n] });
    expect(client.subscriptions.length).toBe(1);
    expect(q.last().status).toBe('ready');

    q.rerender({ sql: TODOS, params: ['y', 1n] });
    expect(client.subscriptions.length).toBe(2);
    expect(client.active.map((s) => s.params)).toEqual([['y', 1n]]);
    expect(q.last().status).toBe('loading');

    q.rerender({ sql: 'SELECT 1', params: ['y', 1n] });
    expect(client.active.map((s) => s.sql)).toEqual(['SELECT 1']);
  });

  test('enabled: false makes no subscription and stays loading', () => {
    const client = new FakeClient();
    const q = renderQuery(client, TODOS, [], { enabled: false });
    expect(client.subscriptions.length).toBe(0);
    expect(q.last()).toEqual({ status: 'loading', rows: undefined, error: undefined });

    q.rerender({ sql: TODOS, params: [], options: { enabled: true } });
    expect(client.active.length).toBe(1);
    act(() => client.emit(TODOS, [row('a')]));
    expect(q.last().status).toBe('ready');

    q.rerender({ sql: TODOS, params: [], options: { enabled: false } });
    expect(client.active.length).toBe(0);
    expect(q.last()).toEqual({ status: 'loading', rows: undefined, error: undefined });
  });

  test('outside a QuireProvider it throws no_provider', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    function Lost() {
      useQuery(TODOS);
      return null;
    }
    expect(() => render(<Lost />)).toThrow(expect.objectContaining({ code: 'no_provider' }));
    vi.restoreAllMocks();
  });
});
