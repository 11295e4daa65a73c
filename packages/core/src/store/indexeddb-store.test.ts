import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { IndexedDbStore } from './indexeddb-store.js';
import { runReplicaStoreContract } from './replica-store.contract.js';

runReplicaStoreContract('IndexedDbStore', (name) => IndexedDbStore.open(name));

let docs = 0;
const opened: IndexedDbStore[] = [];
const open = async (docId: string) => {
  const store = await IndexedDbStore.open(docId);
  opened.push(store);
  return store;
};

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe('IndexedDbStore', () => {
  test('destroy refuses while the replica is open, instead of hanging', async () => {
    const docId = `doc${++docs}`;
    const store = await open(docId);
    await store.init('c');
    await expect(IndexedDbStore.destroy(docId)).rejects.toMatchObject({ code: 'store_in_use' });
  });

  test('destroy removes the stored replica', async () => {
    const docId = `doc${++docs}`;
    const store = await open(docId);
    await store.init('c');
    await store.close();
    await IndexedDbStore.destroy(docId);
    expect(await (await open(docId)).load()).toBeUndefined();
  });
});
