import 'fake-indexeddb/auto';
import { afterEach, describe, expect, test } from 'vitest';
import { IndexedDbStore } from './indexeddb-store.js';

const page = (fill: number) => new Uint8Array(4096).fill(fill);
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
  test('nothing is stored before init', async () => {
    const store = await open(`doc${++docs}`);
    expect(await store.load()).toBeUndefined();
  });

  test('a snapshot, commits and pending mutations survive reopening', async () => {
    const docId = `doc${++docs}`;
    const store = await open(docId);
    await store.init('client-1');
    await store.init('client-2'); // the first id sticks
    await store.putPending({ seq: 1, name: 'add', argsJson: '{"json":1}' });
    await store.putPending({ seq: 2, name: 'add', argsJson: '{"json":2}' });
    await store.putPending({ seq: 3, name: 'add', argsJson: '{"json":3}' });
    await store.putBase({ kind: 'snapshot', lsn: 4, pageCount: 3, pages: [1, 2, 3].map((pgno) => ({ pgno, data: page(pgno) })), settledThroughSeq: 1 });
    await store.putBase({ kind: 'commit', lsn: 5, pageCount: 3, pages: [{ pgno: 2, data: page(20) }], settledThroughSeq: 2 });
    await store.close();

    const loaded = await (await open(docId)).load();
    expect(loaded).toMatchObject({ clientId: 'client-1', lsn: 5, pageCount: 3 });
    expect(loaded!.pages.map((p) => [p.pgno, p.data[0]])).toEqual([[1, 1], [2, 20], [3, 3]]);
    expect(loaded!.pending).toEqual([{ seq: 3, name: 'add', argsJson: '{"json":3}' }]);
  });

  test('a snapshot drops every page it does not list; a shrinking commit drops pages past the end', async () => {
    const store = await open(`doc${++docs}`);
    await store.init('c');
    await store.putBase({ kind: 'snapshot', lsn: 1, pageCount: 4, pages: [1, 2, 3, 4].map((pgno) => ({ pgno, data: page(pgno) })), settledThroughSeq: 0 });
    await store.putBase({ kind: 'commit', lsn: 2, pageCount: 2, pages: [{ pgno: 1, data: page(9) }], settledThroughSeq: 0 });
    expect((await store.load())!.pages.map((p) => p.pgno)).toEqual([1, 2]);
    await store.putBase({ kind: 'snapshot', lsn: 3, pageCount: 1, pages: [{ pgno: 1, data: page(7) }], settledThroughSeq: 0 });
    expect((await store.load())!.pages.map((p) => [p.pgno, p.data[0]])).toEqual([[1, 7]]);
  });

  test('putBase before init is refused and writes nothing', async () => {
    const store = await open(`doc${++docs}`);
    await expect(store.putBase({ kind: 'snapshot', lsn: 1, pageCount: 1, pages: [{ pgno: 1, data: page(1) }], settledThroughSeq: 0 })).rejects.toMatchObject({
      code: 'store_not_initialized',
    });
    expect(await store.load()).toBeUndefined();
  });

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
