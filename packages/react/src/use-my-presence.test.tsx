// @vitest-environment happy-dom
// happy-dom, not jsdom: see use-sync-status.test.tsx (real sockets below).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createClient } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { afterEach, describe, expect, test } from 'vitest';
import { FakeClient } from '../test/fake-client.js';
import { todoReducers } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { useMyPresence } from './use-my-presence.js';

afterEach(cleanup);

interface Me {
  name: string;
  editing: string | null;
}

function Editor(props: { setters?: unknown[] }) {
  const [me, setMe] = useMyPresence<Me>();
  props.setters?.push(setMe);
  return (
    <div>
      <p>{me ? `${me.name} editing ${me.editing ?? 'nothing'}` : 'no state'}</p>
      <button onClick={() => setMe({ name: 'Ann', editing: null })}>join</button>
      <button onClick={() => setMe((m) => m && { ...m, editing: 't1' })}>edit</button>
      <button onClick={() => setMe(null)}>leave</button>
    </div>
  );
}

describe('useMyPresence', () => {
  test('sets this client state; another real client sees it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quire-react-'));
    const server = createSyncServer({ reducers: todoReducers, dataDir });
    const { url } = await server.listen(0);
    const mine = createClient<typeof todoReducers, Me>({ url, docId: 'presence', reducers: todoReducers });
    const other = createClient<typeof todoReducers, Me>({ url, docId: 'presence', reducers: todoReducers });
    const seen = () => other.presence.others().map((o) => `${o.state.name}:${o.state.editing}`).join(',');
    try {
      render(
        <QuireProvider client={mine}>
          <Editor />
        </QuireProvider>,
      );
      screen.getByText('no state');
      fireEvent.click(screen.getByText('join'));
      screen.getByText('Ann editing nothing');
      fireEvent.click(screen.getByText('edit'));
      screen.getByText('Ann editing t1');
      await new Promise<void>((resolve) => {
        const stop = other.presence.subscribe(() => seen() === 'Ann:t1' && (stop(), resolve()));
        if (seen() === 'Ann:t1') resolve();
      });
      fireEvent.click(screen.getByText('leave'));
      screen.getByText('no state');
      await new Promise<void>((resolve) => {
        const stop = other.presence.subscribe(() => seen() === '' && (stop(), resolve()));
        if (seen() === '') resolve();
      });
      expect(mine.presence.mine()).toBeNull();
    } finally {
      cleanup();
      await Promise.all([mine.close(), other.close()]);
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the setter keeps its identity and takes a function of the current state', () => {
    const client = new FakeClient();
    const setters: unknown[] = [];
    render(
      <QuireProvider client={client}>
        <Editor setters={setters} />
      </QuireProvider>,
    );
    fireEvent.click(screen.getByText('edit'));
    expect(client.presence.sets).toEqual([null]);
    fireEvent.click(screen.getByText('join'));
    fireEvent.click(screen.getByText('edit'));
    act(() => client.presence.notify());
    expect(client.presence.sets).toEqual([null, { name: 'Ann', editing: null }, { name: 'Ann', editing: 't1' }]);
    expect(new Set(setters).size).toBe(1);
  });
});
