// @vitest-environment happy-dom
// Not jsdom: vitest's jsdom environment replaces the global ArrayBuffer and
// Uint8Array with those of jsdom's realm, so the bytes `ws` and Buffer hand
// over fail core's `instanceof Uint8Array` checks and the real sync below
// could not run. happy-dom keeps Node's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createClient, defineApp } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { afterEach, describe, expect, test } from 'vitest';
import { FakeClient } from '../test/fake-client.js';
import { todoReducers, type TodoReducers } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { useMutate } from './use-mutate.js';
import { useSyncStatus, type SyncStatusState } from './use-sync-status.js';

afterEach(cleanup);

function Status(props: { seen: SyncStatusState[] }) {
  const status = useSyncStatus();
  const mutate = useMutate<TodoReducers>();
  props.seen.push(status);
  return (
    <div>
      <p>{`${status.connection} pending=${status.pending} lsn=${status.lsn}`}</p>
      <button onClick={status.goOnline}>online</button>
      <button onClick={status.goOffline}>offline</button>
      <button onClick={() => mutate.addTodo({ id: crypto.randomUUID(), title: 'milk' })}>add</button>
    </div>
  );
}

describe('useSyncStatus', () => {
  test('follows a real client through goOnline, sync and goOffline', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quire-react-'));
    const server = createSyncServer({ reducers: todoReducers, dataDir });
    const { url } = await server.listen(0);
    const client = createClient({ url, docId: 'status', reducers: todoReducers, offline: true, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
    await client.mutate.init().local;
    const seen: SyncStatusState[] = [];
    try {
      render(
        <QuireProvider client={client}>
          <Status seen={seen} />
        </QuireProvider>,
      );
      await screen.findByText('offline pending=1 lsn=0');

      fireEvent.click(screen.getByText('online'));
      await screen.findByText('connected pending=0 lsn=1');

      fireEvent.click(screen.getByText('offline'));
      await screen.findByText('offline pending=0 lsn=1');
      fireEvent.click(screen.getByText('add'));
      await screen.findByText('offline pending=1 lsn=1');

      fireEvent.click(screen.getByText('online'));
      await screen.findByText('connected pending=0 lsn=2');

      expect(new Set(seen.map((s) => s.goOffline)).size).toBe(1);
      expect(new Set(seen.map((s) => s.goOnline)).size).toBe(1);
    } finally {
      cleanup();
      await client.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('shows update_required and both app versions when the server runs a newer app', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quire-react-'));
    const server = createSyncServer({ reducers: defineApp({ version: 2, reducers: todoReducers.definitions }), dataDir });
    const { url } = await server.listen(0);
    const client = createClient({ url, docId: 'versions', reducers: defineApp({ version: 1, reducers: todoReducers.definitions }), reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
    function Versions() {
      const { connection, appVersion } = useSyncStatus();
      return <p>{`${connection} client=${appVersion.client} server=${appVersion.server ?? '?'}`}</p>;
    }
    try {
      render(
        <QuireProvider client={client}>
          <Versions />
        </QuireProvider>,
      );
      await screen.findByText('update_required client=1 server=2');
    } finally {
      cleanup();
      await client.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('re-renders only when the status changes; the controls call disconnect and connect', () => {
    const client = new FakeClient();
    const seen: SyncStatusState[] = [];
    render(
      <QuireProvider client={client}>
        <Status seen={seen} />
      </QuireProvider>,
    );
    act(() => client.setStatus({ connection: 'connecting' }));
    expect(seen.length).toBe(2);
    act(() => client.setStatus({ connection: 'connecting' }));
    expect(seen.length).toBe(2);
    act(() => client.setStatus({ connection: 'unauthorized', lastError: { code: 'unauthorized', message: 'no' } }));
    expect(seen[seen.length - 1]).toMatchObject({ connection: 'unauthorized', lastError: { code: 'unauthorized' } });

    fireEvent.click(screen.getByText('offline'));
    fireEvent.click(screen.getByText('online'));
    fireEvent.click(screen.getByText('online'));
    expect(client.disconnectCalls).toBe(1);
    expect(client.connectCalls).toBe(2);
  });
});
