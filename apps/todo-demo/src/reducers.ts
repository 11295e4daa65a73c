import { defineReducers } from '@quire/core';

/** The multiplayer TodoMVC's reducers. Ids come from the caller, so replays are deterministic. */
export const reducers = defineReducers({
  init: (tx) => {
    tx.exec(`CREATE TABLE IF NOT EXISTS todos (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL,
      completed INTEGER NOT NULL DEFAULT 0,
      position INTEGER NOT NULL
    )`);
  },
  addTodo: (tx, { id, title }: { id: string; title: string }) => {
    const trimmed = title.trim();
    if (!trimmed) throw new Error('a todo needs a title');
    const next = tx.get<{ p: number }>('SELECT coalesce(max(position), 0) + 1 AS p FROM todos')!.p;
    tx.exec('INSERT INTO todos (id, title, position) VALUES (?, ?, ?)', [id, trimmed, next]);
  },
  toggleTodo: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE todos SET completed = 1 - completed WHERE id = ?', [id]);
  },
  toggleAll: (tx, { completed }: { completed: boolean }) => {
    tx.exec('UPDATE todos SET completed = ?', [completed]);
  },
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
});

export default reducers;
