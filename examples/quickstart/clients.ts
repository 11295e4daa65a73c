import { createClient, type QuireClient, type Row } from '@quire/core';
import reducers from './reducers.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:8787';
const alice = createClient({ url, docId: 'quickstart', reducers });
const bob = createClient({ url, docId: 'quickstart', reducers });

/** Resolves with the rows once `ready(rows)` holds for a live query. */
function until(client: QuireClient<typeof reducers>, sql: string, ready: (rows: readonly Row[]) => boolean) {
  return new Promise<readonly Row[]>((resolve) => {
    const stop = client.subscribe(sql, [], (rows) => ready(rows) && (stop(), resolve(rows)), () => {});
  });
}

await alice.mutate.createTable().server;
alice.mutate.addNote({ id: 'n1', text: 'Hello from Alice' });
await until(bob, 'SELECT id FROM notes', (rows) => rows.length === 1);

// Both like at the same time: each sees its own like at once, and the
// server's order decides the final state on both.
alice.mutate.like({ id: 'n1' });
bob.mutate.like({ id: 'n1' });
const query = 'SELECT text, likes FROM notes';
const [a, b] = await Promise.all([
  until(alice, query, (rows) => rows[0]?.likes === 2),
  until(bob, query, (rows) => rows[0]?.likes === 2),
]);
console.log('alice sees', a);
console.log('bob sees  ', b);
await Promise.all([alice.close(), bob.close()]);
