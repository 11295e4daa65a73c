import { afterEach, expect, test } from 'vitest';
import type { Authorize } from '@quire/server';
import { fuzzReducers, type FuzzReducers } from '../helpers/fuzz-reducers.js';
import { openRaw } from '../helpers/raw-socket.js';
import { serverQuery } from '../helpers/server-rows.js';
import { startHarness, type Harness } from '../helpers/sync-harness.js';

// The close code and reason of a refused hello (packages/server/src/session.ts).
const TAKEN = { code: 4401, reason: 'client_id_taken' };
/** Gives each connection the user named in its URL, as an app's token lookup would. */
const authorize: Authorize = ({ request }) => ({ userId: new URL(request.url ?? '/', 'http://x').searchParams.get('user') ?? 'anon' });
const asUser = (h: Harness<FuzzReducers>, user: string) => openRaw(`${h.url}/?user=${user}&doc=doc`, null);

let h: Harness<FuzzReducers> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

// A client id is no secret (every replica holds __quire_clients), so the server binds it to the first user that says hello with it and refuses anyone else's hello
// (client_id_taken). Without that, a push under the stolen id takes the victim's next seq; the server then
// skips the victim's own mutation with that seq as a resend, and the victim's client reports it confirmed:
// acknowledged, never applied.
test('another user cannot push under a client id that is not theirs', async () => {
  h = await startHarness(fuzzReducers, { authorize });
  const victim = h.client({ clientId: 'victim', params: { user: 'alice' } });
  await victim.mutate.init().server;
  const mallory = await asUser(h, 'mallory');
  const refused = mallory.hello('victim');
  // Sent right behind the hello, before any answer.
  mallory.send({ type: 'push', mutations: [{ seq: 2, name: 'note', args: JSON.stringify({ json: { id: 'forged', body: 'by mallory' } }) }] });
  await expect(refused).rejects.toThrow(/client_id_taken/);
  expect(mallory.closed).toEqual(TAKEN);
  expect(mallory.received).toMatchObject([{ type: 'error', code: 'client_id_taken', seq: 0, fatal: true }]);
  const real = victim.mutate.note({ id: 'real', body: 'by alice' });
  await h.client({ clientId: 'bystander' }).mutate.bump({ id: 'x' }).server;
  await real.server;
  const { results } = await serverQuery(h.server, 'doc', ['SELECT id, body FROM notes ORDER BY id']);
  // What a user expects: their confirmed note is there, and nobody else wrote as them.
  expect(results[0]).toEqual([{ id: 'real', body: 'by alice' }]);
});

// A refused hello is checked before the connection counts against maxConnectionsPerClient: otherwise
// another user could close the owner's connections just by saying hello with its id.
test("a refused hello does not close the owner's connection", async () => {
  h = await startHarness(fuzzReducers, { authorize, limits: { maxConnectionsPerClient: 1 } });
  const alice = await asUser(h, 'alice');
  await alice.hello('shared');
  const mallory = await asUser(h, 'mallory');
  await expect(mallory.hello('shared')).rejects.toThrow(/client_id_taken/);
  // A barrier: alice's connection still answers, and got nothing but its own frames.
  alice.send({ type: 'getPages', id: 7, pgnos: [{ pgno: 1 }] });
  await alice.next('pages');
  expect(alice.closed).toBeUndefined();
  expect(alice.received.filter((m) => m.type === 'error')).toEqual([]);
  await alice.close();
});

// The binding is durable: a restarted server still knows whose client id it is.
test('after a server restart, the client id still belongs to its first user', async () => {
  h = await startHarness(fuzzReducers, { authorize });
  const victim = h.client({ clientId: 'victim', params: { user: 'alice' } });
  await victim.mutate.init().server;
  // Closed before the restart, so nothing of alice's reaches the new server before mallory does.
  await victim.close();
  await h.restart();
  const mallory = await asUser(h, 'mallory');
  await expect(mallory.hello('victim')).rejects.toThrow(/client_id_taken/);
  expect(mallory.closed).toEqual(TAKEN);
  const alice = await asUser(h, 'alice');
  await alice.hello('victim');
  expect(alice.closed).toBeUndefined();
  await alice.close();
});

// Retrying cannot succeed, so a real client stops, as it does when unauthorized, and says why.
test('a client whose id belongs to another user stops reconnecting and reports client_id_taken', async () => {
  h = await startHarness(fuzzReducers, { authorize });
  const alice = h.client({ clientId: 'shared', params: { user: 'alice' } });
  await alice.mutate.init().server;
  const bob = h.client({ clientId: 'shared', params: { user: 'bob' } });
  await expect.poll(() => bob.status().connection, { timeout: 10_000 }).toBe('unauthorized');
  expect(bob.status().lastError?.code).toBe('client_id_taken');
  // Alice was not disturbed.
  await alice.mutate.note({ id: 'still-mine', body: 'x' }).server;
  expect(alice.status().connection).toBe('connected');
});
