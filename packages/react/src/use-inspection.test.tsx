// @vitest-environment happy-dom
// happy-dom, not jsdom: see use-sync-status.test.tsx (real sockets run below).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { act, cleanup, render, screen } from '@testing-library/react';
import { createClient } from '@quire/core';
import { createSyncServer } from '@quire/server';
import { afterEach, expect, test } from 'vitest';
import { todoReducers } from '../test/todo-app.js';
import { QuireProvider } from './quire-provider.js';
import { useInspection } from './use-inspection.js';

afterEach(cleanup);

function Pending() {
  const inspection = useInspection();
  if (!inspection) return <p>waiting</p>;
  return <p>{inspection.pending.map((m) => `${m.seq}:${m.name}:${m.state}`).join(' ') || `none at ${inspection.durableLsn}`}</p>;
}

test('shows a real client\'s pending calls, and they go once confirmed; unmounted, nothing is watched', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-react-'));
  const server = createSyncServer({ reducers: todoReducers, dataDir });
  const { url } = await server.listen(0);
  const client = createClient({ url, docId: 'inspect', reducers: todoReducers, offline: true, reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  let subscribed = 0;
  const subscribe = client.subscribeInspection;
  Object.defineProperty(client, 'subscribeInspection', {
    value: (listener: Parameters<typeof subscribe>[0]) => {
      subscribed++;
      const stop = subscribe(listener);
      return () => {
        subscribed--;
        stop();
      };
    },
  });
  try {
    const { unmount } = render(
      <QuireProvider client={client}>
        <Pending />
      </QuireProvider>,
    );
    screen.getByText('waiting');
    await act(async () => void (await client.mutate.init().local));
    await screen.findByText('1:init:applied');
    act(() => client.connect());
    await screen.findByText(/^none at [1-9]/);
    expect(subscribed).toBe(1);
    unmount();
    expect(subscribed).toBe(0);
  } finally {
    await client.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
