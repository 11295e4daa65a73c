import 'fake-indexeddb/auto';
import { expect, test } from 'vitest';
import { defineReducers } from '../reducers/define-reducers.js';
import { ReplicaPages } from '../replica/replica-pages.js';
import { IndexedDbStore } from '../store/indexeddb-store.js';
import type { BaseChange } from '../store/replica-store.js';
import { fakeServer } from '../../test/fake-server.js';
import { Engine } from './engine.js';

const reducers = defineReducers({
  add: (tx, { id }: { id: string }) => void tx.exec('INSERT INTO items (id) VALUES (?)', [id]),
  // Not idempotent: applied twice, it shows.
  bump: (tx) => void tx.exec('UPDATE counter SET n = n + 1'),
});

let docs = 0;
const ids = (engine: Engine) => engine.query<{ id: string }>('SELECT id FROM items ORDER BY id').then((r) => r.map((x) => x.id));
const count = (engine: Engine) => engine.query<{ n: number }>('SELECT n FROM counter').then((r) => r[0]!.n);
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};
const base = (engine: Engine) =>
  engine.withReplica((db) => {
    const { lsn, pageCount, pages } = db.pages.baseImage();
    return { lsn, pageCount, pages: new Map([...pages].map(([pgno, data]) => [pgno, data.slice()])) };
  });

/** An engine on a real (fake-indexeddb) store whose base writes the test can read. */
async function engineWithStore() {
  const store = await IndexedDbStore.open(`layers${++docs}`);
  const writes: BaseChange[] = [];
  const putBase = store.putBase.bind(store);
  store.putBase = (change) => (writes.push(change), putBase(change));
  const engine = new Engine({ reducers, clientId: 'c1', store });
  return { engine, writes };
}

/** An engine on a store with a counter at 0 and one own `bump` applied locally, pending; `settled()` is its server result once it has one. */
async function withPendingBump() {
  const server = await fakeServer();
  const { engine, writes } = await engineWithStore();
  await engine.applyServerUpdate(server.snapshot(() => server.db.exec('CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)')), []);
  const bump = engine.mutate('bump', undefined);
  let settled: unknown;
  void bump.server.then((r) => (settled = r));
  await bump.local;
  return { server, engine, writes, settled: () => settled };
}

test('an own mutation in a non-durable commit stays pending and is not applied again; at durability it settles and only that commit is stored', async () => {
  const { server, engine, writes, settled } = await withPendingBump();
  await until(() => engine.sendable().length === 1);
  expect(await count(engine)).toBe(1);
  writes.length = 0;

  // The server applied it (and someone's 'z'): seen, not durable.
  const commit = server.commit(() => server.db.exec("UPDATE counter SET n = n + 1; INSERT INTO items VALUES ('z')"), { c1: 1 });
  await engine.applyServerUpdate(commit, [], false);
  expect(await count(engine)).toBe(1);
  expect(await ids(engine)).toEqual(['z']);
  expect([engine.lsn, engine.durableLsn]).toEqual([2, 1]);
  expect(engine.pendingCount).toBe(1);
  expect(settled()).toBeUndefined();
  expect(writes).toEqual([]);

  await engine.applyDurable(2);
  await until(() => settled() !== undefined);
  expect(settled()).toEqual({ lsn: 2 });
  expect(engine.pendingCount).toBe(0);
  expect([engine.lsn, engine.durableLsn]).toEqual([2, 2]);
  // Exactly the commit's pages go to the store, with the settlement.
  expect(writes).toHaveLength(1);
  expect(writes[0]).toMatchObject({ kind: 'commit', lsn: 2, settledThroughSeq: 1, dropped: [] });
  expect(writes[0]!.pages.map((p) => p.pgno)).toEqual(commit.pages.map((p) => p.pgno));
  const stored = await base(engine);
  for (const { pgno, data } of commit.pages) expect(stored.pages.get(pgno)).toEqual(data);
  await engine.close();
});

test('a commit that says the commit before it is durable shows itself as a layer and folds the earlier one, in one step', async () => {
  const { server, engine, writes, settled } = await withPendingBump();
  await engine.applyServerUpdate(server.commit(() => server.db.exec('UPDATE counter SET n = n + 1'), { c1: 1 }), [], false);
  writes.length = 0;

  // Commit 3 (someone's 'y') arrives saying commit 2 is durable.
  await engine.applyServerUpdate(server.commit(() => server.db.exec("INSERT INTO items VALUES ('y')")), [], false, 2);
  expect([engine.lsn, engine.durableLsn]).toEqual([3, 2]);
  await until(() => settled() !== undefined);
  expect(settled()).toEqual({ lsn: 2 });
  expect(engine.pendingCount).toBe(0);
  expect(await count(engine)).toBe(1);
  expect(await ids(engine)).toEqual(['y']);
  // Only commit 2 is stored: commit 3 is still a layer.
  expect(writes.map((w) => w.lsn)).toEqual([2]);
  await engine.close();
});

test('dropping non-durable commits returns the replica to its durable base byte for byte; their own mutations replay once, and their rejections were never final', async () => {
  const server = await fakeServer();
  const { engine, writes } = await engineWithStore();
  await engine.applyServerUpdate(server.snapshot(() => server.db.exec('CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)')), []);
  const durable = await base(engine);
  const bump = engine.mutate('bump', undefined);
  const doomed = engine.mutate('add', { id: 'x' });
  let outcome: string | undefined;
  void bump.server.then(
    () => (outcome ??= 'bump settled'),
    () => {},
  );
  void doomed.server.then(
    () => (outcome ??= 'x settled'),
    () => (outcome ??= 'x rejected'),
  );
  await doomed.local;
  writes.length = 0;

  // Two commits the server never makes durable: the bump, then x refused.
  await engine.applyServerUpdate(server.commit(() => server.db.exec("UPDATE counter SET n = n + 1; INSERT INTO items VALUES ('y')"), { c1: 1 }), [], false);
  await engine.applyServerUpdate(server.commit(() => {}, { c1: 2 }), [{ seq: 2, code: 'reducer_error', message: 'no x' }], false);
  expect(await ids(engine)).toEqual(['y']);
  expect(await count(engine)).toBe(1);
  expect(engine.lsn).toBe(3);

  // The server crashed before they were durable; a new connection drops them.
  await engine.dropSpeculative();
  expect([engine.lsn, engine.durableLsn]).toEqual([1, 1]);
  const after = await base(engine);
  expect(after.lsn).toBe(durable.lsn);
  expect(after.pageCount).toBe(durable.pageCount);
  expect([...after.pages.keys()]).toEqual([...durable.pages.keys()]);
  for (const [pgno, data] of durable.pages) expect(after.pages.get(pgno)).toEqual(data);
  // Both replay on the durable base, once each; nothing settled, nothing stored.
  expect(await count(engine)).toBe(1);
  expect(await ids(engine)).toEqual(['x']);
  expect(engine.pendingCount).toBe(2);
  expect(outcome).toBeUndefined();
  expect(writes).toEqual([]);
  await engine.close();
});

test('layers read through in order: newest first, a forgotten page is missing, and folding some keeps what the replica shows', () => {
  const page = (fill: number) => new Uint8Array(4096).fill(fill);
  const pages = new ReplicaPages();
  pages.resetBase(1, 3, [2, 3].map((pgno) => ({ pgno, data: page(pgno) })));
  pages.pushLayer(2, 4, [{ pgno: 2, data: page(20) }, { pgno: 4, data: page(40) }], []);
  pages.pushLayer(3, 4, [{ pgno: 3, data: page(30) }], [2]);
  const view = () => [2, 3, 4].map((pgno) => pages.read(pgno)?.[0]);
  expect(view()).toEqual([undefined, 30, 40]);
  expect([2, 3, 4].map((pgno) => pages.holds(pgno))).toEqual([false, true, true]);
  expect([pages.lsn, pages.durableLsn, pages.pageCount()]).toEqual([3, 1, 4]);

  const folded = pages.foldLayers(2)!;
  expect(folded).toMatchObject({ lsn: 2, pageCount: 4, dropped: [], layers: 1 });
  expect(folded.pages.map((p) => [p.pgno, p.data[0]])).toEqual([[2, 20], [4, 40]]);
  expect(view()).toEqual([undefined, 30, 40]);
  expect([pages.lsn, pages.durableLsn]).toEqual([3, 2]);

  expect(pages.dropLayers()).toBe(true);
  expect(view()).toEqual([20, 3, 40]);
  expect([pages.lsn, pages.durableLsn]).toEqual([2, 2]);
});
