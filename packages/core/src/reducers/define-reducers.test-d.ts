import { describe, expectTypeOf, test } from 'vitest';
import type { MutationHandle, MutateApi } from '../client/mutation-handle.js';
import { defineReducers, validated, type ReducerFn } from './define-reducers.js';
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

  test('async reducers do not compile, plain ones whatever they return do', () => {
    const sync = defineReducers({
      add: (tx, args: { id: string }) => tx.exec('INSERT INTO todos (id) VALUES (?)', [args.id]),
      list: (tx) => tx.query('SELECT id FROM todos'),
      first: (tx) => tx.get('SELECT id FROM todos'),
    });
    expectTypeOf<MutateApi<typeof sync>['add']>().parameter(0).toEqualTypeOf<{ id: string }>();

    defineReducers({
      // @ts-expect-error a reducer must be synchronous
      addLater: async (tx, args: { id: string }) => {
        tx.exec('INSERT INTO todos (id) VALUES (?)', [args.id]);
      },
    });
    // @ts-expect-error a reducer must be synchronous, validated or not
    validated(idSchema, async (tx, args) => {
      tx.exec('DELETE FROM todos WHERE id = ?', [args.id]);
    });
    defineReducers({
      // @ts-expect-error nor return any other thenable
      thenable: () => ({ then: (resolve: () => void) => resolve() }),
    });
    expectTypeOf<() => Promise<void>>().not.toExtend<ReducerFn<undefined>>();
    expectTypeOf<() => void>().toExtend<ReducerFn<undefined>>();
  });
});
