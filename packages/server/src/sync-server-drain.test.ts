import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import type { CommitRecord } from './log/commit-log.js';
import { FileCommitLog } from './log/file-commit-log.js';
import { createSyncServer, type SyncServer } from './sync-server.js';
import { memoryLogger } from '../test/memory-logger.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY)'),
  add: (tx, { id }: { id: string }) => tx.exec('INSERT INTO notes (id) VALUES (?)', [id]),
});

/** The file log, but while `gate` is set an append waits for it: a commit that is applied and not yet durable. */
class GatedLog extends FileCommitLog {
  static gate: Promise<void> | undefined;
  static waiting = 0;
  override async append(records: readonly CommitRecord[]): Promise<void> {
    if (GatedLog.gate) {
      GatedLog.waiting++;
      await GatedLog.gate;
    }
    return super.append(records);
  }
}

let server: SyncServer<typeof reducers> | undefined;
let client: QuireClient<typeof reducers> | undefined;
let dataDir = '';

afterEach(async () => {
  GatedLog.gate = undefined;
  await client?.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** An HTTP request whose last header line is not sent yet: a request in progress when the server starts to drain. */
async function requestInProgress(port: number, path: string): Promise<{ finish(): Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  let response = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (response += chunk));
  return {
    finish() {
      socket.end('Connection: close\r\n\r\n');
      return new Promise((resolve) => socket.once('close', () => resolve(response)));
    },
  };
}

test('close() drains: connections are refused, /healthz says draining (503), a commit waiting to be durable is confirmed to its client, then the client is closed with 1012', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-drain-'));
  const memory = memoryLogger();
  server = createSyncServer({ reducers, dataDir, logger: memory.logger, commitLog: (_docId, dir) => new GatedLog(dir) });
  const { url, port } = await server.listen(0);
  client = createClient({ url, docId: 'doc', reducers, clientId: 'alice' });
  await client.mutate.init().server;
  const seen: string[] = [];
  client.subscribeStatus((s) => {
    if (s.connection !== 'connected' && !seen.some((e) => e.startsWith('left'))) seen.push(`left: ${s.lastError?.code}`);
  });

  let open!: () => void;
  GatedLog.gate = new Promise((resolve) => (open = resolve));
  const call = client.mutate.add({ id: 'last' });
  void call.server.then(() => seen.push('confirmed'));
  await expect.poll(() => GatedLog.waiting).toBe(1);

  const request = await requestInProgress(port, '/healthz');
  const closed = server.close();
  expect(server.health()).toMatchObject({ ok: false, draining: true });
  // The listening socket is closed: a load balancer's new connection is refused.
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  // A request already under way hears why.
  const response = await request.finish();
  expect(response).toMatch(/^HTTP\/1\.1 503 /);
  expect(response).toContain('"draining":true');
  // The drain waits for the commit to be durable, with the client still connected.
  expect(client.status().connection).toBe('connected');
  expect(seen).toEqual([]);

  open();
  await closed;
  await expect.poll(() => seen).toEqual(['confirmed', 'left: close_1012']);
  expect(await call.server).toMatchObject({ lsn: 2 });
  const messages = memory.lines.map((l) => l.msg);
  expect(messages).toContainEqual(expect.stringMatching(/^draining: stopped taking connections; closing 1 document\(s\) once their queued mutations are durable, then 1 connection\(s\)$/));
  expect(messages).toContainEqual(expect.stringMatching(/^drained in \d+ ms: 1 document\(s\) closed; every connection closed with 1012 .*the last 1 once their documents closed$/));
});
