import { describe, expectTypeOf, test } from 'vitest';
import type { MutationHandle, MutateApi } from '../client/mutation-handle.js';
import { defineReducers, validated } from './define-reducers.js';
import type { StandardSchemaV1 } from '@standard-schema/spec';

const idSchema: StandardSchemaV1<unknown, { id: string }> = {
  '~standard': { version: 1, vendor: 'test', validate: (v) => ({ value: v as { id: string } }) },
};

const reducers = defineReducers({
  addTodo: (tx, args: { id: string; title: string }) => {
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [args.id, args.title]);
  },
  clearCompleted: (tx) => {
    tx.exec('DELETE FROM todos WHERE completed = 1');
  },
  toggle: validated(idSchema, (tx, args) => {
    expectTypeOf(args).toEqualTypeOf<{ id: string }>();
    tx.exec('UPDATE todos SET completed = NOT completed WHERE id = ?', [args.id]);
  }),
});

declare const mutate: MutateApi<typeof reducers>;

describe('defineReducers types', () => {
  test('argument types are inferred per reducer', () => {
    expectTypeOf(mutate.addTodo).parameter(0).toEqualTypeOf<{ id: string; title: string }>();
    expectTypeOf(mutate.toggle).parameter(0).toEqualTypeOf<{ id: string }>();
    expectTypeOf(mutate.addTodo({ id: 'a', title: 'b' })).toEqualTypeOf<MutationHandle>();
  });

  test('reducers without arguments take none', () => {
    mutate.clearCompleted();
  });

  test('unknown names and wrong argument types do not compile', () => {
    // @ts-expect-error unknown reducer
    mutate.removeEverything({ id: 'a' });
    // @ts-expect-error title must be a string
    mutate.addTodo({ id: 'a', title: 42 });
    // @ts-expect-error title is missing
    mutate.addTodo({ id: 'a' });
    // @ts-expect-error schema output type is enforced
    mutate.toggle({ id: 1 });
  });
});
