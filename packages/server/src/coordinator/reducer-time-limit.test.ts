import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { createSyncServer, type SyncServer } from '../sync-server.js';
import { LEVEL, memoryLogger } from '../../test/memory-logger.js';

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY)'),
  /** Busy for `ms`, of both wall and CPU time: a reducer that blocks the thread it runs on. */
  work: (tx, { id, ms }: { id: string; ms: number }) => {
    // performance.now(), as the limit measures: Date.now() steps whole milliseconds, so a 400 ms wait on it can last 399.1 ms.
    const until = performance.now() + ms;
    const cpu = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
    // On a busy machine the thread gets less than a core, and the limit only counts calls that used the CPU.
    const cpuUntil = cpu() + ms;
    while (performance.now() < until || cpu() < cpuUntil);
    tx.exec('INSERT INTO calls (id) VALUES (?)', [id]);
  },
  /** Blocked for `ms` without using CPU, as a thread waiting for a core on a busy machine is. */
  stalled: (tx, { id, ms }: { id: string; ms: number }) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    tx.exec('INSERT INTO calls (id) VALUES (?)', [id]);
  },
});

let server: SyncServer<typeof reducers> | undefined;
let dataDir = '';
const clients: QuireClient<typeof reducers>[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a reducer over limits.reducerTimeMs is reported, and its client is paused on the document while others go on', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-reducer-time-'));
  const { logger, lines } = memoryLogger();
  server = createSyncServer({ reducers, dataDir, logger, limits: { reducerTimeMs: 200, reducerPauseMs: 60_000 } });
  const { url } = await server.listen(0);
  const client = (clientId: string) => {
    const c = createClient({ url, docId: 'doc', reducers, clientId });
    clients.push(c);
    return c;
  };
  const slow = client('slow');
  const other = client('other');
  slow.mutate.init();
  await slow.mutate.work({ id: 'quick', ms: 0 }).server;

  // The slow call itself is applied: it already ran, and JavaScript cannot stop it.
  await slow.mutate.work({ id: 'slow', ms: 400 }).server;
  await expect(slow.mutate.work({ id: 'after', ms: 0 }).server).rejects.toMatchObject({
    code: 'reducer_too_slow',
    message: expect.stringMatching(/client "slow" is paused for 60 s more .* raise limits\.reducerTimeMs on the server$/),
  });
  await other.mutate.work({ id: 'other', ms: 0 }).server;
  // A call the server starts is reported, never refused.
  await server.mutate('doc', 'work', { id: 'server', ms: 400 });
  await server.mutate('doc', 'work', { id: 'server again', ms: 0 });

  await expect.poll(async () => (await other.query<{ id: string }>('SELECT id FROM calls ORDER BY id')).map((r) => r.id)).toEqual(['other', 'quick', 'server', 'server again', 'slow']);

  const warnings = lines.filter((l) => l.level === LEVEL.warn);
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toMatchObject({ docId: 'doc', clientId: 'slow', reducer: 'work', limitMs: 200, pausedMs: 60_000 });
  expect(warnings[0]!.durationMs).toBeGreaterThanOrEqual(400);
  expect(warnings[1]).toMatchObject({ docId: 'doc', clientId: '__server', reducer: 'work' });
  expect(lines.filter((l) => l.msg === 'mutation rejected: reducer_too_slow')).toEqual([expect.objectContaining({ docId: 'doc', clientId: 'slow', reducer: 'work', code: 'reducer_too_slow' })]);
});

test('a call that took long only because the thread had no CPU (a busy machine) is logged, and its client is not paused', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-reducer-time-'));
  const { logger, lines } = memoryLogger();
  server = createSyncServer({ reducers, dataDir, logger, limits: { reducerTimeMs: 200, reducerPauseMs: 60_000 } });
  const { url } = await server.listen(0);
  const client = createClient({ url, docId: 'doc', reducers, clientId: 'unlucky' });
  clients.push(client);
  client.mutate.init();
  await client.mutate.stalled({ id: 'stalled', ms: 400 }).server;
  await client.mutate.work({ id: 'after', ms: 0 }).server;

  expect((await client.query<{ id: string }>('SELECT id FROM calls ORDER BY id')).map((r) => r.id)).toEqual(['after', 'stalled']);
  expect(lines.filter((l) => l.level === LEVEL.warn)).toEqual([]);
  const busy = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('the machine is busy'));
  expect(busy).toEqual([expect.objectContaining({ docId: 'doc', clientId: 'unlucky', reducer: 'stalled', limitMs: 200 })]);
  expect(busy[0]!.durationMs).toBeGreaterThanOrEqual(400);
  expect(busy[0]!.cpuMs).toBeLessThan(200);
});
