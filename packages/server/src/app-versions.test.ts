import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, test } from 'vitest';
import { defineApp, defineReducers } from '@quire/core';
import { PROTOCOL_VERSION, decodeServerMessage, encodeMessage, type ServerMessage } from '@quire/core/protocol';
import { LEVEL, memoryLogger } from '../test/memory-logger.js';
import { serverOutdated, updateRequired } from './app-versions.js';
import { createSyncServer, type SyncServer } from './sync-server.js';

const definitions = {
  init: (tx: { exec(sql: string): void }) => tx.exec('CREATE TABLE IF NOT EXISTS items (name TEXT)'),
};
const v2 = defineApp({ version: 2, reducers: definitions });

describe('serverOutdated', () => {
  test('refuses only a client newer than the server', () => {
    expect(serverOutdated(3, 2)).toMatchObject({ code: 'server_outdated', message: expect.stringMatching(/app version 3, but this server runs version 2.*keeps its changes and retries/) });
    expect(serverOutdated(2, 2)).toBeUndefined();
    expect(serverOutdated(1, 2)).toBeUndefined();
    // An unversioned server (defineReducers) is older than any versioned client.
    expect(serverOutdated(1, 0)?.code).toBe('server_outdated');
    expect(serverOutdated(0, 0)).toBeUndefined();
  });
});

describe('updateRequired', () => {
  test('refuses calls of an older client whose reducer the server no longer has', () => {
    expect(updateRequired(v2, { name: 'gone', appVersion: 1 })).toMatchObject({
      code: 'update_required',
      message: 'reducer "gone" does not exist in app version 2, which the server runs; this client runs version 1, so the call was not applied — reload the app to update it',
    });
    // The reducer exists: it runs (and fails on its own if its arguments changed).
    expect(updateRequired(v2, { name: 'init', appVersion: 1 })).toBeUndefined();
    // Same version, or a server mutation: an unknown name stays unknown_reducer.
    expect(updateRequired(v2, { name: 'gone', appVersion: 2 })).toBeUndefined();
    expect(updateRequired(v2, { name: 'gone' })).toBeUndefined();
    expect(updateRequired(defineReducers(definitions), { name: 'gone', appVersion: 0 })).toBeUndefined();
    // Names that are not own reducers (the prototype's) are not reducers.
    expect(updateRequired(v2, { name: 'toString', appVersion: 1 })?.code).toBe('update_required');
  });
});

describe('hello with an app version', () => {
  let server: SyncServer<typeof v2> | undefined;
  let dataDir = '';
  let url = '';
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function hello(appVersion: number): Promise<{ messages: ServerMessage[]; close: { code: number; reason: string } | undefined }> {
    const ws = new WebSocket(`${url}/?doc=doc`);
    const messages: ServerMessage[] = [];
    ws.on('message', (data: Buffer) => messages.push(decodeServerMessage(new Uint8Array(data))));
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion, clientId: `c${appVersion}`, lastLsn: 0, fromSeq: 0, partial: false, held: [] }));
    // Until the server closes the connection, or has brought the client up to date.
    const close = await new Promise<{ code: number; reason: string } | undefined>((resolve) => {
      const check = setInterval(() => {
        if (messages.some((m) => m.type === 'snapshot' && m.done)) done(undefined);
      }, 5);
      const done = (result: { code: number; reason: string } | undefined) => {
        clearInterval(check);
        resolve(result);
      };
      ws.once('close', (code, reason) => done({ code, reason: reason.toString() }));
    });
    ws.terminate();
    return { messages, close };
  }

  async function start() {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-app-versions-'));
    const { logger, lines } = memoryLogger();
    server = createSyncServer({ reducers: v2, dataDir, logger });
    ({ url } = await server.listen(0));
    return lines;
  }

  test('a client newer than the server is refused before the document opens, and the refusal is logged', async () => {
    const lines = await start();
    const { messages, close } = await hello(3);
    expect(messages).toEqual([{ type: 'error', code: 'server_outdated', message: expect.stringMatching(/app version 3, but this server runs version 2/), seq: 0, fatal: true }]);
    expect(close).toEqual({ code: 4500, reason: 'server_outdated' });
    expect(existsSync(join(dataDir, 'doc'))).toBe(false);
    expect(lines).toContainEqual(expect.objectContaining({ level: LEVEL.info, clientId: 'c3', appVersion: 3, serverAppVersion: 2, msg: expect.stringMatching(/refused a client of a newer app version/) }));
  });

  test('an older client is welcomed with the server version, and logged with both versions; an equal one is not', async () => {
    const lines = await start();
    const older = await hello(1);
    expect(older.close).toBeUndefined();
    expect(older.messages[0]).toMatchObject({ type: 'welcome', appVersion: 2 });
    const same = await hello(2);
    expect(same.messages[0]).toMatchObject({ type: 'welcome', appVersion: 2 });
    const outdated = lines.filter((l) => /older app version/.test(l.msg));
    expect(outdated).toEqual([expect.objectContaining({ level: LEVEL.info, clientId: 'c1', appVersion: 1, serverAppVersion: 2 })]);
  });
});
