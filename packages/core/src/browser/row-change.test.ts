import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import WebSocket from 'ws';
import { afterEach, describe, expect, test } from 'vitest';
import { defineReducers } from '../reducers/define-reducers.js';
import type { Row } from '../reducers/tx.js';
import { FileStore } from '../store/file-store.js';
import { connectClient } from './browser-client.js';
import { EngineHost } from './engine-host.js';
import { applyRowChange, diffRows } from './row-change.js';
import type { HostMessage, PortLike } from './rpc.js';

describe('diffRows and applyRowChange', () => {
  const rows = (...ids: string[]) => ids.map((id) => ({ id, done: 0 }));
  const cases: Array<[string, Row[], Row[], number]> = [
    ['one row changed in the middle', rows('a', 'b', 'c', 'd'), [...rows('a'), { id: 'b', done: 1 }, ...rows('c', 'd')], 1],
    ['a row added at the end', rows('a', 'b'), rows('a', 'b', 'c'), 1],
    ['a row removed at the start', rows('a', 'b', 'c'), rows('b', 'c'), 0],
    ['nothing changed', rows('a', 'b'), rows('a', 'b'), 0],
    ['everything changed', rows('a', 'b'), rows('x', 'y', 'z'), 3],
    ['repeated rows', rows('a', 'a', 'a'), rows('a', 'a'), 0],
    ['from empty', [], rows('a'), 1],
  ];
  test.each(cases)('%s: sends only the changed range, and the tab rebuilds the rows', (_, prev, next, sent) => {
    const change = diffRows(prev, next);
    expect(change.rows).toHaveLength(sent);
    const rebuilt = applyRowChange(prev, change);
    expect(rebuilt).toEqual(next);
    // Rows outside the change are the tab's own objects: React keeps them.
    for (let i = 0; i < change.from; i++) expect(rebuilt[i]).toBe(prev[i]);
  });

  test('the first message replaces whatever the tab held', () => {
    expect(applyRowChange([{ stale: 1 }], diffRows(undefined, [{ id: 'a' }]))).toEqual([{ id: 'a' }]);
  });
});

describe('a tab and the engine host', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test('a change to one row of 200 crosses to the tab as that row, and the tab sees every row', async () => {
    const reducers = defineReducers({
      fill: (tx, { n }: { n: number }) => {
        tx.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, done INTEGER NOT NULL DEFAULT 0)');
        for (let id = 1; id <= n; id++) tx.exec('INSERT INTO items (id) VALUES (?)', [id]);
      },
      toggle: (tx, { id }: { id: number }) => void tx.exec('UPDATE items SET done = 1 - done WHERE id = ?', [id]),
    });
    const dir = mkdtempSync(join(tmpdir(), 'quire-row-change-'));
    dirs.push(dir);
    // Nothing listens there: the engine stays offline, which local changes do not need.
    const previous = (globalThis as { WebSocket?: unknown }).WebSocket;
    (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
    const host = new EngineHost({ reducers, store: () => FileStore.open(join(dir, 'replica')) });
    const { port1, port2 } = new MessageChannel();
    host.serve(port1 as unknown as PortLike);
    // The tab's end of the port, recording what the worker posts.
    const posted: HostMessage[] = [];
    const tabPort: PortLike = {
      postMessage: (message) => port2.postMessage(message),
      set onmessage(handler: ((event: MessageEvent) => void) | null) {
        port2.removeAllListeners('message');
        port2.on('message', (data: HostMessage) => {
          posted.push(data);
          handler?.({ data } as MessageEvent);
        });
      },
      get onmessage() {
        return null;
      },
    };
    const client = connectClient({ url: 'ws://127.0.0.1:9/sync', docId: 'rows', reducers }, tabPort);
    try {
      await client.mutate.fill({ n: 200 }).local;
      const seen: Array<readonly Row[]> = [];
      client.subscribe('SELECT id, done FROM items ORDER BY id', [], (rows) => seen.push(rows));
      await expect.poll(() => seen.at(-1)?.length).toBe(200);

      await client.mutate.toggle({ id: 100 }).local;
      await expect.poll(() => seen.at(-1)?.[99]).toEqual({ id: 100, done: 1 });
      const last = posted.filter((m): m is Extract<HostMessage, { t: 'rows' }> => m.t === 'rows').at(-1)!;
      expect(last.change.rows).toEqual([{ id: 100, done: 1 }]);
      const [before, after] = seen.slice(-2) as [readonly Row[], readonly Row[]];
      expect(after).toHaveLength(200);
      expect(after[0]).toBe(before[0]);
      expect(after[199]).toBe(before[199]);
    } finally {
      await client.close();
      port1.close();
      port2.close();
      (globalThis as { WebSocket?: unknown }).WebSocket = previous;
    }
  });
});
