import { afterEach, describe, expect, test } from 'vitest';
import type { ReplicaStore } from './replica-store.js';

/** Opens the store named `name`; the same name reopens the same stored replica. */
export type OpenStore = (name: string) => Promise<ReplicaStore>;

const page = (fill: number) => new Uint8Array(4096).fill(fill);

/** The behaviour every {@link ReplicaStore} must have; each implementation's test calls this. */
export function runReplicaStoreContract(label: string, openStore: OpenStore): void {
  let names = 0;
  const opened: ReplicaStore[] = [];
  const open = async (name: string) => {
    const store = await openStore(name);
    opened.push(store);
    return store;
  };
  const reopen = async (store: ReplicaStore, name: string) => {
    await store.close();
    return open(name);
  };
  const fresh = () => `${label.toLowerCase().replace(/\W+/g, '-')}-${process.pid}-${++names}`;

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  describe(`${label}: the ReplicaStore contract`, () => {
    test('nothing is stored before init', async () => {
      expect(await (await open(fresh())).load()).toBeUndefined();
    });

    test('a snapshot, commits and pending mutations survive reopening', async () => {
      const name = fresh();
      const store = await open(name);
      await store.init('client-1');
      await store.init('client-2'); // the first id sticks
      await store.putPending({ seq: 1, name: 'add', argsJson: '{"json":1}' });
      await store.putPending({ seq: 2, name: 'add', argsJson: '{"json":2}' });
      await store.putPending({ seq: 3, name: 'add', argsJson: '{"json":3}' });
      await store.putBase({ kind: 'snapshot', lsn: 4, pageCount: 3, pages: [1, 2, 3].map((pgno) => ({ pgno, data: page(pgno) })), settledThroughSeq: 1 });
      await store.putBase({ kind: 'commit', lsn: 5, pageCount: 3, pages: [{ pgno: 2, data: page(20) }], settledThroughSeq: 2 });

      const loaded = await (await reopen(store, name)).load();
      expect(loaded).toMatchObject({ clientId: 'client-1', lsn: 5, pageCount: 3, lastSeq: 2 });
      expect(loaded!.pages.map((p) => [p.pgno, p.data[0], p.data.length])).toEqual([[1, 1, 4096], [2, 20, 4096], [3, 3, 4096]]);
      expect(loaded!.pending).toEqual([{ seq: 3, name: 'add', argsJson: '{"json":3}' }]);
    });

    test('a snapshot drops every page it does not list; a shrinking commit drops pages past the end', async () => {
      const store = await open(fresh());
      await store.init('c');
      await store.putBase({ kind: 'snapshot', lsn: 1, pageCount: 4, pages: [1, 2, 3, 4].map((pgno) => ({ pgno, data: page(pgno) })), settledThroughSeq: 0 });
      await store.putBase({ kind: 'commit', lsn: 2, pageCount: 2, pages: [{ pgno: 1, data: page(9) }], settledThroughSeq: 0 });
      expect((await store.load())!.pages.map((p) => p.pgno)).toEqual([1, 2]);
      await store.putBase({ kind: 'snapshot', lsn: 3, pageCount: 1, pages: [{ pgno: 1, data: page(7) }], settledThroughSeq: 0 });
      expect((await store.load())!.pages.map((p) => [p.pgno, p.data[0]])).toEqual([[1, 7]]);
    });

    test('a partial base: pages are added at the same LSN, and dropped pages go', async () => {
      const store = await open(fresh());
      await store.init('c');
      await store.putBase({ kind: 'snapshot', lsn: 1, pageCount: 100, pages: [1, 50].map((pgno) => ({ pgno, data: page(pgno) })), settledThroughSeq: 0 });
      await store.putBase({ kind: 'commit', lsn: 1, pageCount: 100, pages: [{ pgno: 70, data: page(70) }], settledThroughSeq: 0 });
      await store.putBase({ kind: 'commit', lsn: 2, pageCount: 100, pages: [{ pgno: 1, data: page(11) }], dropped: [50, 99], settledThroughSeq: 0 });
      const loaded = await store.load();
      expect(loaded).toMatchObject({ lsn: 2, pageCount: 100 });
      expect(loaded!.pages.map((p) => [p.pgno, p.data[0]])).toEqual([[1, 11], [70, 70]]);
    });

    test('settle drops settled mutations and remembers the highest seq, without touching the base', async () => {
      const name = fresh();
      const store = await open(name);
      await store.init('c');
      await store.putBase({ kind: 'snapshot', lsn: 3, pageCount: 1, pages: [{ pgno: 1, data: page(1) }], settledThroughSeq: 0 });
      for (const seq of [4, 5, 6]) await store.putPending({ seq, name: 'add', argsJson: '{}' });
      await store.settle(5);
      await store.settle(2); // never lowers it
      const loaded = await (await reopen(store, name)).load();
      expect(loaded).toMatchObject({ lsn: 3, lastSeq: 5 });
      expect(loaded!.pending.map((m) => m.seq)).toEqual([6]);
      expect(loaded!.pages.map((p) => p.pgno)).toEqual([1]);
    });

    test('writes before init are refused and write nothing', async () => {
      const store = await open(fresh());
      await expect(store.putBase({ kind: 'snapshot', lsn: 1, pageCount: 1, pages: [{ pgno: 1, data: page(1) }], settledThroughSeq: 0 })).rejects.toMatchObject({
        code: 'store_not_initialized',
      });
      await expect(store.settle(1)).rejects.toMatchObject({ code: 'store_not_initialized' });
      expect(await store.load()).toBeUndefined();
    });
  });
}
