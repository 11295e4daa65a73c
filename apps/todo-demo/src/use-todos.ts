import { useQuery } from '@quire/react';
import { ALL_TODOS_SQL, type Todo } from './todo.js';
import { HAS_TODOS_SQL } from './todo-schema.js';

const NO_TODOS: readonly Todo[] = Object.freeze([]);

/** Whether the list has its `todos` table: from its first todo on (here, or synced from the server). */
export function useHasTodoTable(): { hasTable: boolean; error: unknown } {
  const { rows, error } = useQuery<{ n: number }>(HAS_TODOS_SQL);
  return { hasTable: (rows?.[0]?.n ?? 0) > 0, error };
}

/**
 * The list's todos, live. A list nobody has written to has no table yet, so
 * the todos are read only once the table exists (an untouched list is empty,
 * not an error).
 */
export function useTodos(): { todos: readonly Todo[]; error: unknown } {
  const table = useHasTodoTable();
  const { rows, error } = useQuery<Todo>(ALL_TODOS_SQL, [], { rowKey: 'id', enabled: table.hasTable });
  return { todos: rows ?? NO_TODOS, error: error ?? table.error };
}
