import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { defineReducers } from '../reducers/define-reducers.js';
import { IndexedDbStore } from '../store/indexeddb-store.js';
import type { ReplicaStore } from '../store/replica-store.js';
import { fakeServer } from '../../test/fake-server.js';
import { Engine } from './engine.js';

const reducers = defineReducers({
  add: (tx, { id }: { id: string }) => void tx.exec('INSERT INTO items (id) VALUES (?)', [id]),
});

let docs = 0;
const ids = (engine: Engine) => engine.query<{ id: string }>('SELECT id FROM items ORDER BY id').then((r) => r.map((x) => x.id));
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('Engine with a store', () => {
  test('the base and unsent mutations survive a restart; the stored client id and seqs carry on', async () => {
    const docId = `doc${++docs}`;
    const server = await fakeServer();
    const first = new Engine({ reducers, clientId: 'c1', store: await IndexedDbStore.open(docId) });
    await first.applyServerUpdate(server.snapshot(server.add('from-server')), []);
    first.mutate('add', { id: 'a' });
    await first.mutate('add', { id: 'b' }).local;
    await until(() => first.sendable().length === 2);
    await first.close();

    const second = new Engine({ reducers, clientId: 'c2', store: await IndexedDbStore.open(docId) });
    await second.ready();
    expect(second.clientId).toBe('c1');
    expect(second.lsn).toBe(1);
    expect(await ids(second)).toEqual(['a', 'b', 'from-server']);
    expect(second.pending().map((m) => m.seq)).toEqual([1, 2]);
    expect(second.mutate('add', { id: 'c' }).seq).toBe(3);
    await second.close();
  });

  test('settled mutations leave the store with the base that contains them', async () => {
    const docId = `doc${++docs}`;
    const server = await fakeServer();
    const first = new Engine({ reducers, clientId: 'c1', store: await IndexedDbStore.open(docId) });
    await first.applyServerUpdate(server.snapshot(), []);
    first.mutate('add', { id: 'a' });
    await first.mutate('add', { id: 'b' }).local;
    await first.applyServerUpdate(server.snapshot(server.add('a'), { c1: 1 }), []);
    await first.close();

    const second = new Engine({ reducers, clientId: 'c1', store: await IndexedDbStore.open(docId) });
    await second.ready();
    expect(second.pending().map((m) => m.seq)).toEqual([2]);
    expect(await ids(second)).toEqual(['a', 'b']);
    await second.close();
  });

  test('a mutation is not sendable until the store has it', async () => {
    const engine = new Engine({ reducers, clientId: 'c1', store: await IndexedDbStore.open(`doc${++docs}`) });
    await engine.ready();
    const handle = engine.mutate('add', { id: 'a' });
    expect(handle.seq).toBe(1);
    expect(engine.sendable()).toEqual([]);
    await until(() => engine.sendable().length === 1);
    await engine.close();
  });

  test('mutations made before a stored replica loads get seqs after the stored ones', async () => {
    const docId = `doc${++docs}`;
    const first = new Engine({ reducers, clientId: 'c1', store: await IndexedDbStore.open(docId) });
    await first.applyServerUpdate((await fakeServer()).snapshot(), []);
    await first.mutate('add', { id: 'a' }).local;
    await until(() => first.sendable().length === 1);
    await first.close();

    const second = new Engine({ reducers, clientId: 'c1', store: await IndexedDbStore.open(docId) });
    const early = second.mutate('add', { id: 'b' });
    await early.local;
    expect(early.seq).toBe(2);
    expect(await ids(second)).toEqual(['a', 'b']);
    await second.close();
  });

  test('a store that cannot load: the engine runs in memory and reports store_failed', async () => {
    const broken: ReplicaStore = {
      load: () => Promise.reject(new Error('quota exceeded')),
      init: () => Promise.resolve(),
      putPending: () => Promise.resolve(),
      putBase: () => Promise.resolve(),
      settle: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const engine = new Engine({ reducers, clientId: 'c1', store: broken });
    await engine.ready();
    expect(engine.storeError?.code).toBe('store_failed');
    expect(engine.storeError?.message).toContain('quota exceeded');
    await engine.applyServerUpdate((await fakeServer()).snapshot(), []);
    await engine.mutate('add', { id: 'a' }).local;
    expect(engine.sendable().map((m) => m.seq)).toEqual([1]);
    await engine.close();
  });
});
