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
 * The list's todos, live. A list nobody has written to has no table yet
 * (todo-schema.ts), so until its first todo the query fails with SQLite's
 * "no such table": that is an empty list, not an error. The engine runs a
 * failing live query again after every change, so the rows come in the same
 * refresh that brings the table, with no round trip through React between.
 */
export function useTodos(): { todos: readonly Todo[]; error: unknown } {
  const { rows, error } = useQuery<Todo>(ALL_TODOS_SQL, [], { rowKey: 'id' });
  if (isMissingTable(error)) return { todos: NO_TODOS, error: undefined };
  return { todos: rows ?? NO_TODOS, error };
}

function isMissingTable(error: unknown): boolean {
  return error instanceof Error && /no such table: todos\b/.test(error.message);
}
