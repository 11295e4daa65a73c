import { Component, StrictMode, Suspense, type ReactNode } from 'react';
import { act, cleanup, render, screen } from '@testing-library/react';
import type { QuireClient, Reducers } from '@quire/core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { FakeClient } from '../test/fake-client.js';
import { offlineClient, type Todo } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { SUSPENSE_RETAIN_MS, suspenseCacheOf } from './suspense-cache.js';
import { useSuspenseQuery, type SuspenseQueryState } from './use-suspense-query.js';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const TODOS = 'SELECT id, title, done FROM todos ORDER BY id';

class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: undefined as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override render() {
    return this.state.error === undefined ? this.props.children : <p>caught: {String(this.state.error)}</p>;
  }
}

/** Rendered in an awaited act: React 19 retries a render that suspended in a sync act only inside act. */
async function renderSuspense(client: QuireClient<Reducers>, sql: string, strict = false) {
  const states: SuspenseQueryState<Todo>[] = [];
  const attempts = { count: 0 };
  function Todos() {
    attempts.count++;
    const state = useSuspenseQuery<Todo>(sql);
    states.push(state);
    return <p>{`${state.status}: ${state.rows.map((t) => t.title).join(',')}`}</p>;
  }
  const app = (
    <QuireProvider client={client}>
      <Boundary>
        <Suspense fallback={<p>waiting</p>}>
          <Todos />
        </Suspense>
      </Boundary>
    </QuireProvider>
  );
  const view = await act(async () => render(strict ? <StrictMode>{app}</StrictMode> : app));
    // A render that suspended counts as an attempt without a state.
  return { states, suspended: () => attempts.count > states.length, unmount: () => view.unmount() };
}

describe('useSuspenseQuery', () => {
  test('suspends until the first result, then follows changes', async () => {
    const client = await offlineClient([{ id: 'a', title: 'milk' }]);
    const view = await renderSuspense(client, TODOS);
    await screen.findByText('ready: milk');
    expect(view.suspended()).toBe(true);
    await act(async () => {
      await client.mutate.addTodo({ id: 'b', title: 'eggs' }).local;
    });
    await screen.findByText('ready: milk,eggs');
    await client.close();
  });

  test('a query that fails before its first result throws to the error boundary', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = await offlineClient();
    await renderSuspense(client, 'SELECT * FROM no_such_table');
    await screen.findByText(/caught: .*no such table: no_such_table/);
    await client.close();
  });

  test('the thrown error stays cached, so the boundary does not restart the query', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = new FakeClient();
    await renderSuspense(client, TODOS);
    await act(async () => client.fail(TODOS, new Error('disk on fire')));
    await screen.findByText('caught: Error: disk on fire');
    expect(client.subscriptions.length).toBe(1);
  });

  test('suspended renders share one cached subscription, released after unmount', async () => {
    const client = new FakeClient();
    const view = await renderSuspense(client, TODOS, true);
    expect(screen.getByText('waiting')).toBeTruthy();
    // StrictMode rendered twice, and nothing mounted: the cache holds the one subscription.
    expect(client.subscriptions.length).toBe(1);

    await act(async () => client.emit(TODOS, [{ id: 'a', title: 'milk', done: 0 }]));
    await screen.findByText('ready: milk');
    expect(client.subscriptions.length).toBe(1);
    expect(suspenseCacheOf(client).size).toBe(1);

    vi.useFakeTimers();
    view.unmount();
    expect(client.active.length).toBe(1);
    vi.advanceTimersByTime(SUSPENSE_RETAIN_MS);
    expect(client.active.length).toBe(0);
    expect(suspenseCacheOf(client).size).toBe(0);
  });

  test('an error after the first result is returned with the rows, not thrown', async () => {
    const client = new FakeClient();
    const view = await renderSuspense(client, TODOS);
    await act(async () => client.emit(TODOS, [{ id: 'a', title: 'milk', done: 0 }]));
    await screen.findByText('ready: milk');
    const rows = view.states[view.states.length - 1]!.rows;
    act(() => client.fail(TODOS, new Error('disk on fire')));
    await screen.findByText('error: milk');
    const last = view.states[view.states.length - 1]!;
    expect(last.rows).toBe(rows);
    expect((last.error as Error).message).toBe('disk on fire');
  });
});
