// @vitest-environment happy-dom
// happy-dom, not jsdom: see use-sync-status.test.tsx (real sockets below).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { act, cleanup, render, screen } from '@testing-library/react';
import { createClient, type PresencePeer } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { afterEach, describe, expect, test } from 'vitest';
import { FakeClient } from '../test/fake-client.js';
import { todoReducers } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { useOthers } from './use-others.js';

afterEach(cleanup);

interface Me {
  name: string;
}

function Others(props: { renders?: (readonly PresencePeer<Me>[])[] }) {
  const others = useOthers<Me>();
  props.renders?.push(others);
  return <p>{`others: ${others.map((o) => o.state.name).join(',') || 'none'}`}</p>;
}

describe('useOthers', () => {
  test('shows another real client arrive, change and leave', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quire-react-'));
    const server = createSyncServer({ reducers: todoReducers, dataDir });
    const { url } = await server.listen(0);
    const mine = createClient<typeof todoReducers, Me>({ url, docId: 'presence', reducers: todoReducers, presence: { name: 'Me' } });
    const other = createClient<typeof todoReducers, Me>({ url, docId: 'presence', reducers: todoReducers, presence: { name: 'Ann' } });
    try {
      render(
        <QuireProvider client={mine}>
          <Others />
        </QuireProvider>,
      );
      await screen.findByText('others: Ann');
      other.presence.set({ name: 'Ann (editing)' });
      await screen.findByText('others: Ann (editing)');
      await other.close();
      await screen.findByText('others: none');
    } finally {
      cleanup();
      await Promise.all([mine.close(), other.close()]);
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('re-renders only when the others change', () => {
    const client = new FakeClient();
    const renders: (readonly PresencePeer<Me>[])[] = [];
    render(
      <QuireProvider client={client}>
        <Others renders={renders} />
      </QuireProvider>,
    );
    expect(renders).toHaveLength(1);
    // The client notifies when its own state changes too: same others, no render.
    act(() => client.presence.notify());
    expect(renders).toHaveLength(1);
    act(() => client.presence.setOthers([{ id: 'ann:0', clientId: 'ann', state: { name: 'Ann' } }]));
    expect(renders).toHaveLength(2);
    expect(screen.getByText('others: Ann')).toBeTruthy();
  });
});
