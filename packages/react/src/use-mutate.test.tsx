import { act, cleanup, render, screen } from '@testing-library/react';
import type { MutateApi } from '@quire/core';
import { afterEach, describe, expect, test } from 'vitest';
import { offlineClient, type Todo, type TodoReducers } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { useMutate } from './use-mutate.js';
import { useQuery } from './use-query.js';

afterEach(cleanup);

describe('useMutate', () => {
  test("is the client's mutate object, and its calls apply locally at once", async () => {
    const client = await offlineClient();
    const seen: MutateApi<TodoReducers>[] = [];
    function Todos() {
      const mutate = useMutate<TodoReducers>();
      seen.push(mutate);
      const { rows } = useQuery<Todo>('SELECT id, title, done FROM todos ORDER BY id');
      return <p>{rows?.map((t) => t.title).join(',') || 'none'}</p>;
    }
    render(
      <QuireProvider client={client}>
        <Todos />
      </QuireProvider>,
    );
    await screen.findByText('none');
    await act(async () => {
      const handle = seen[seen.length - 1]!.addTodo({ id: 'a', title: 'milk' });
      await handle.local;
      expect(handle.seq).toBeGreaterThan(0);
    });
    await screen.findByText('milk');
    expect(seen.every((m) => m === client.mutate)).toBe(true);
    expect(client.status().pending).toBe(2);
    await client.close();
  });
});
