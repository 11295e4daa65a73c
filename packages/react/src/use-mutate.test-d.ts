import { defineReducers, type MutateApi, type MutationHandle } from '@quire/core';
import { describe, expectTypeOf, test } from 'vitest';
import { useMutate } from './use-mutate.js';

const reducers = defineReducers({
  addTodo: (tx, args: { id: string; title: string }) => {
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [args.id, args.title]);
  },
  clearCompleted: (tx) => {
    tx.exec('DELETE FROM todos WHERE completed = 1');
  },
});

describe('useMutate types', () => {
  test('returns the typed mutate object of the reducers', () => {
    expectTypeOf(useMutate<typeof reducers>).returns.toEqualTypeOf<MutateApi<typeof reducers>>();
    const mutate = useMutate<typeof reducers>();
    expectTypeOf(mutate.addTodo).parameter(0).toEqualTypeOf<{ id: string; title: string }>();
    expectTypeOf(mutate.addTodo({ id: 'a', title: 'b' })).toEqualTypeOf<MutationHandle>();
    mutate.clearCompleted();
  });

  test('unknown reducers and wrong arguments do not compile', () => {
    const mutate = useMutate<typeof reducers>();
    // @ts-expect-error no such reducer
    mutate.removeEverything({ id: 'a' });
    // @ts-expect-error title must be a string
    mutate.addTodo({ id: 'a', title: 42 });
    // @ts-expect-error title is missing
    mutate.addTodo({ id: 'a' });
    // @ts-expect-error addTodo needs its arguments
    mutate.addTodo();
    // @ts-expect-error the type argument must be reducers
    useMutate<{ addTodo: () => void }>();
  });
});
