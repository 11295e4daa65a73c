/**
 * A client in a process of its own that sets a presence state and then just
 * stays, for tests that kill it. Launch with
 * `node --conditions=quire-source --import tsx helpers/presence-client-process.ts <url> <docId> <clientId> <state JSON>`;
 * it prints "welcomed" once the server welcomed it.
 */
import { createClient, type Json } from '@quire/core';
import { todoReducers } from './todo-reducers.js';

const [url, docId, clientId, state] = process.argv.slice(2);
const client = createClient({ url: url!, docId: docId!, clientId: clientId!, reducers: todoReducers, presence: JSON.parse(state!) as Json });
const stop = client.subscribeStatus((status) => {
  if (status.connection !== 'connected') return;
  stop();
  process.stdout.write('welcomed\n');
});
