import { defineReducers } from '@quire/core';

export default defineReducers({
  createTable: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL, likes INTEGER NOT NULL DEFAULT 0)');
  },
  addNote: (tx, { id, text }: { id: string; text: string }) => {
    tx.exec('INSERT INTO notes (id, text) VALUES (?, ?)', [id, text]);
  },
  like: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE notes SET likes = likes + 1 WHERE id = ?', [id]);
  },
});
