import { defineReducers } from '@quire/core';

export default defineReducers({
  createTable: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS cards (id TEXT PRIMARY KEY, title TEXT NOT NULL, votes INTEGER NOT NULL DEFAULT 0)');
  },
  addCard: (tx, { id, title }: { id: string; title: string }) => {
    tx.exec('INSERT INTO cards (id, title) VALUES (?, ?)', [id, title]);
  },
  vote: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE cards SET votes = votes + 1 WHERE id = ?', [id]);
  },
});
