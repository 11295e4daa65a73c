import { describe, expect, it } from 'vitest';
import { defineApp } from '../reducers/define-app.js';
import WebSocket from 'ws';
import { createClient } from './client.js';
import type { WebSocketConstructor } from './connection.js';

const app = defineApp({ version: 1, reducers: { add: () => {} } });
const base = { url: 'ws://127.0.0.1:1', docId: 'd', offline: true, WebSocket: WebSocket as unknown as WebSocketConstructor };

describe('createClient options', () => {
  it('refuses an app passed under another name, or raw reducer functions, with reducers_not_found and what was given', () => {
    expect(() => createClient({ ...base, app } as never)).toThrow(expect.objectContaining({ code: 'reducers_not_found', message: expect.stringMatching(/needs the app as `reducers`.*got no `reducers` \(options given: url, docId, offline, WebSocket, app\)/) }));
    expect(() => createClient({ ...base, reducers: { add: () => {} } } as never)).toThrow(/got a `reducers` that is a plain object/);
    expect(() => createClient({ ...base, reducers: undefined } as never)).toThrow(/got no `reducers`/);
  });

  it('takes what defineApp made', async () => {
    const client = createClient({ ...base, reducers: app });
    expect(client.status().appVersion).toEqual({ client: 1, server: undefined });
    await client.close();
  });
});
