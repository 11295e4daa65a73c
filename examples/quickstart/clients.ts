import { createClient } from '@quire/core';
import reducers from './reducers.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:8787';
const alice = createClient({ url, docId: 'quickstart', reducers });
const bob = createClient({ url, docId: 'quickstart', reducers });

await alice.mutate.createTable().server; // .local settles on the local apply, .server once the server applied it
await alice.mutate.addNote({ id: 'n1', text: 'Hello from Alice' }).server;

// Both like at once: each sees its own like immediately, the server orders them.
await Promise.all([alice.mutate.like({ id: 'n1' }).server, bob.mutate.like({ id: 'n1' }).server]);

// Live queries fire with the current rows and again on every change.
const converged = (name: string, client: typeof alice) =>
  new Promise<void>((resolve) => {
    const stop = client.subscribe('SELECT text, likes FROM notes', [], (rows) => {
      if (rows[0]?.likes !== 2) return;
      console.log(name, 'sees', rows);
      stop();
      resolve();
    });
  });
await converged('alice', alice);
await converged('bob  ', bob);
await Promise.all([alice.close(), bob.close()]);
