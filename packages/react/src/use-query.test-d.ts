import { describe, expectTypeOf, test } from 'vitest';
import { useQuery } from './use-query.js';
import { useSuspenseQuery } from './use-suspense-query.js';

type Todo = { id: string; title: string };

describe('useQuery types', () => {
  test('the status narrows rows', () => {
    const state = useQuery<Todo>('SELECT id, title FROM todos');
    if (state.status === 'ready') expectTypeOf(state.rows).toEqualTypeOf<readonly Todo[]>();
    if (state.status === 'loading') expectTypeOf(state.rows).toEqualTypeOf<undefined>();
    if (state.status === 'error') expectTypeOf(state.rows).toEqualTypeOf<readonly Todo[] | undefined>();
    expectTypeOf(useSuspenseQuery<Todo>('SELECT id, title FROM todos').rows).toEqualTypeOf<readonly Todo[]>();
  });

  test('rowKey must be a column of the row type', () => {
    useQuery<Todo>('SELECT id, title FROM todos', [], { rowKey: 'id' });
    // @ts-expect-error not a column of Todo
    useQuery<Todo>('SELECT id, title FROM todos', [], { rowKey: 'owner' });
    // @ts-expect-error not a column of Todo
    useSuspenseQuery<Todo>('SELECT id, title FROM todos', [], { rowKey: 'owner' });
  });
});
