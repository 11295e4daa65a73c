import { randomUUID } from 'node:crypto';
import { createClient } from '@quire/core';
import reducers from './reducers.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:8787';
const alice = createClient({ url, docId: 'quickstart', reducers });
const bob = createClient({ url, docId: 'quickstart', reducers });

// Offline-first: with the server down, calls wait and the client retries. Say why.
let said = '';
alice.subscribeStatus(({ lastError }) => {
  if (lastError && lastError.message !== said) console.log('alice:', (said = lastError.message));
});

const id = randomUUID(); // ids come from the caller (reducers are deterministic), fresh on every run
await alice.mutate.createTable().server; // .local settles on the local apply, .server once the server applied it
await alice.mutate.addNote({ id, text: 'Hello from Alice' }).server;

// Both like at once: each sees its own like immediately, the server orders them.
await Promise.all([alice.mutate.like({ id }).server, bob.mutate.like({ id }).server]);

// Live queries fire with the current rows and again on every change.
const converged = (name: string, client: typeof alice) =>
  new Promise<void>((resolve) => {
    const stop = client.subscribe('SELECT text, likes FROM notes WHERE id = ?', [id], (rows) => {
      if (rows[0]?.likes !== 2) return;
      console.log(name, 'sees', rows);
      stop();
      resolve();
    });
  });
await converged('alice', alice);
await converged('bob  ', bob);
await Promise.all([alice.close(), bob.close()]);
