import { defineReducers } from '@quire/core';

/**
 * The multiplayer TodoMVC's reducers. Ids come from the caller and positions
 * from the table, so a replay gives the same rows on every replica: the
 * server's single order decides who gets which position.
 */
export const reducers = defineReducers({
  /** Creates the schema; every client calls it when it opens a list. */
  init: (tx) => {
    tx.exec(`CREATE TABLE IF NOT EXISTS todos (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL,
      completed INTEGER NOT NULL DEFAULT 0,
      position INTEGER NOT NULL
    )`);
    // Serves ORDER BY position and max(position). Being a second DDL statement,
    // it also keeps a fresh replica's schema cookie (2) apart from a fresh
    // server document's (1): the replica VFS only rewrites the change counter,
    // so equal cookies made SQLite keep a stale schema after the first snapshot.
    tx.exec('CREATE INDEX IF NOT EXISTS todos_by_position ON todos (position)');
  },
  addTodo: (tx, { id, title }: { id: string; title: string }) => {
    const trimmed = title.trim();
    if (!trimmed) throw new Error('a todo needs a title — type something before pressing Enter');
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
});

export type TodoReducers = typeof reducers;

export default reducers;
