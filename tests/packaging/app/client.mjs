import { randomUUID } from 'node:crypto';
import { createClient } from '@quire/core';
import reducers from './reducers.ts';

const url = process.argv[2] ?? 'ws://127.0.0.1:8787';
const alice = createClient({ url, docId: 'board', reducers });
const bob = createClient({ url, docId: 'board', reducers });

const id = randomUUID(); // ids come from the caller, so every run adds a new card
await alice.mutate.createTable().server;
await alice.mutate.addCard({ id, title: 'Ship it' }).server;
await Promise.all([alice.mutate.vote({ id }).server, bob.mutate.vote({ id }).server]);

for (const [name, client] of [['alice', alice], ['bob', bob]]) {
  await new Promise((resolve) => {
    const stop = client.subscribe('SELECT title, votes FROM cards WHERE id = ?', [id], ([card]) => {
      if (card?.votes !== 2) return;
      console.log(`${name} sees "${card.title}" with ${card.votes} votes`);
      stop();
      resolve();
    });
  });
}
await Promise.all([alice.close(), bob.close()]);
