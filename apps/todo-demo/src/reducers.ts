import { defineApp } from '@quire/core';
import { ensureTodoSchema } from './todo-schema.js';

/**
 * The multiplayer TodoMVC: its app version and reducers. Ids come from the
 * caller and positions from the table, so a replay gives the same rows on
 * every replica: the server's single order decides who gets which position.
 * The first todo creates the table (see todo-schema.ts); the others act on
 * existing todos.
 *
 * Bump `version` with every deploy that changes a reducer: a page still
 * running the older code then shows "A new version is available — reload"
 * (see UpdateBanner.tsx), and its calls of reducers that are gone are
 * refused with `update_required` instead of failing one by one.
 */
export const reducers = defineApp({
  version: 1,
  reducers: {
    /**
     * Creates the empty list's table ahead of its first todo, for scripts and
     * tests. The app never calls it: addTodo creates the table itself, so
     * opening a list queues nothing.
     */
    init: (tx) => ensureTodoSchema(tx),
    addTodo: (tx, { id, title }: { id: string; title: string }) => {
      const trimmed = title.trim();
      if (!trimmed) throw new Error('a todo needs a title — type something before pressing Enter');
      ensureTodoSchema(tx);
      const next = tx.get<{ p: number }>('SELECT coalesce(max(position), 0) + 1 AS p FROM todos')!.p;
      tx.exec('INSERT INTO todos (id, title, position) VALUES (?, ?, ?)', [id, trimmed, next]);
    },
    // Sets rather than flips: two people ticking the same box at once both
    // mean "done", and a flip would cancel out.
    toggleTodo: (tx, { id, completed }: { id: string; completed: boolean }) => {
      tx.exec('UPDATE todos SET completed = ? WHERE id = ?', [completed, id]);
    },
    toggleAll: (tx, { completed }: { completed: boolean }) => {
      tx.exec('UPDATE todos SET completed = ?', [completed]);
    },
    /** Renames a todo; an empty title deletes it, as TodoMVC asks. */
    editTodo: (tx, { id, title }: { id: string; title: string }) => {
      const trimmed = title.trim();
      if (trimmed) tx.exec('UPDATE todos SET title = ? WHERE id = ?', [trimmed, id]);
      else tx.exec('DELETE FROM todos WHERE id = ?', [id]);
    },
    deleteTodo: (tx, { id }: { id: string }) => {
      tx.exec('DELETE FROM todos WHERE id = ?', [id]);
    },
    clearCompleted: (tx) => {
      tx.exec('DELETE FROM todos WHERE completed = 1');
    },
  },
});

export type TodoReducers = typeof reducers;

export default reducers;
