/** A row of the `todos` table as the app reads it. */
export type Todo = { id: string; title: string; completed: number };

/** Every todo in list order; `id` breaks ties while two optimistic adds share a position. */
export const ALL_TODOS_SQL = 'SELECT id, title, completed FROM todos ORDER BY position, id';
