import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type ClientInspection, type MutationState, type QuireClient, createClient, defineReducers } from '@quire/core';
import { type CommitRecord, FileCommitLog, type SyncServer, createLogger, createSyncServer } from '@quire/server';
import { CutProxy } from '../helpers/cut-proxy.js';
import { serverQuery } from '../helpers/server-rows.js';
import { type Harness, startHarness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

type Client = QuireClient<TodoReducers>;

const states = (inspection: ClientInspection): Array<[number, MutationState]> => inspection.pending.map((m) => [m.seq, m.state]);

/** Every inspection a subscriber hears, and a way to wait for one. */
function watch(client: QuireClient<any>): { seen: ClientInspection[]; last(): ClientInspection | undefined; until(check: (i: ClientInspection) => boolean, what: string): Promise<ClientInspection>; stop(): void } {
  const seen: ClientInspection[] = [];
  const stop = client.subscribeInspection((inspection) => seen.push(inspection));
  return {
    seen,
    last: () => seen.at(-1),
    stop,
    async until(check, what) {
      await waitFor(() => seen.length > 0 && check(seen.at(-1)!), `${what} (last inspection: ${JSON.stringify(seen.at(-1))})`);
      return seen.at(-1)!;
    },
  };
}

async function serverLastSeq(server: SyncServer<TodoReducers>, clientId: string): Promise<number> {
  const { results } = await serverQuery(server, 'doc', [`SELECT last_seq FROM __quire_clients WHERE client_id = '${clientId}'`]);
  return (results[0]![0]?.last_seq as number | undefined) ?? 0;
}

describe('client.inspection()', () => {
  let h: Harness<TodoReducers>;
  let proxy: CutProxy;
  const clients: Client[] = [];
  beforeEach(async () => {
    h = await startHarness(todoReducers);
    proxy = await CutProxy.start(h.url);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await proxy.close();
    await h.close();
  });

  const viaProxy = (options: { offline?: boolean } = {}): Client => {
    const c = createClient({ url: proxy.url, docId: 'doc', reducers: todoReducers, reconnect: { minDelayMs: 10, maxDelayMs: 50 }, ...options });
    clients.push(c);
    return c;
  };

  test('a mutation goes applied → sent → confirmed, with its arguments shown; subscribers hear changes after the burst, never during it', async () => {
    const c = viaProxy({ offline: true });
    await c.ready();
    await c.mutate.init().local;
    await c.mutate.addTodo({ id: 'a', title: 'Milk' }).local;
    const offline = await c.inspection();
    expect(offline).toMatchObject({ docId: 'doc', clientId: c.clientId, connection: 'offline', pendingCount: 2, lsn: 0, durableLsn: 0 });
    expect(offline.pending).toEqual([
      { seq: 1, name: 'init', args: '', state: 'applied' },
      { seq: 2, name: 'addTodo', args: '{"id":"a","title":"Milk"}', state: 'applied' },
    ]);

    const w = watch(c);
    c.connect();
    const synced = await w.until((i) => i.pendingCount === 0 && i.settled.length === 2, 'both mutations confirmed');
    expect(synced.settled.map((m) => [m.seq, m.state, m.lsn])).toEqual([
      [2, 'confirmed', synced.durableLsn],
      [1, 'confirmed', expect.any(Number)],
    ]);
    expect(synced.connection).toBe('connected');
    expect(synced.pages.held).toBe(synced.pages.total);
    expect(synced.pages.total).toBeGreaterThan(0);
    expect(synced.received.frames).toBeGreaterThan(0);
    expect(synced.received.bytes).toBeGreaterThan(synced.received.frames);

    // The server applies the next one, but its commit is held back on the way: the call is sent, not settled.
    proxy.pauseDown(true);
    c.mutate.addTodo({ id: 'b', title: 'x'.repeat(200) });
    await waitFor(async () => (await serverLastSeq(h.server, c.clientId)) === 3, 'the server to apply seq 3');
    const sent = await w.until((i) => i.pending[0]?.state === 'sent', 'seq 3 sent');
    expect(states(sent)).toEqual([[3, 'sent']]);
    // Long arguments are cut short.
    expect(sent.pending[0]!.args).toHaveLength(80);
    expect(sent.pending[0]!.args.endsWith('…')).toBe(true);
    proxy.pauseDown(false);
    const confirmed = await w.until((i) => i.pendingCount === 0, 'seq 3 confirmed');
    expect(confirmed.settled[0]).toMatchObject({ seq: 3, state: 'confirmed' });

    // A burst of calls: nobody hears of them one by one, and the next inspection shows them all.
    const before = w.seen.length;
    for (let i = 0; i < 50; i++) c.mutate.toggle({ id: 'a' });
    expect(w.seen.length).toBe(before);
    const burst = await w.until((i) => i.pendingCount === 0 && i.settled[0]?.seq === 53, 'the burst confirmed');
    expect(burst.settled).toHaveLength(20);
    w.stop();
  });

  test('a rejection and connection failures are recent errors, newest first; a repeated failure is counted, not repeated', async () => {
    const c = viaProxy();
    await c.mutate.init().server;
    const w = watch(c);
    await c.mutate.serverOnlyFail({ id: 'x' }).server.catch(() => {});
    const rejected = await w.until((i) => i.errors.length > 0 && i.settled.length > 0, 'the rejection');
    expect(rejected.errors[0]).toMatchObject({ source: 'rejected', code: 'reducer_error', seq: 2, count: 1 });
    expect(rejected.errors[0]!.message).toContain('serverOnlyFail (seq 2): the server refuses this one');
    expect(rejected.settled[0]).toMatchObject({ seq: 2, state: 'rejected', error: { code: 'reducer_error', message: 'the server refuses this one' } });

    // The server becomes unreachable: the client retries, and each retry fails alike.
    proxy.block(true);
    proxy.cut();
    const down = await w.until((i) => i.errors[0]?.code === 'server_unreachable' && i.errors[0].count >= 3, 'retries to fail');
    expect(down.errors[0]!.source).toBe('connection');
    expect(down.errors.some((e) => e.source === 'rejected')).toBe(true);
    expect(down.errors.length).toBeLessThanOrEqual(20);

    // Calls made meanwhile are applied locally and wait.
    c.mutate.addTodo({ id: 'offline', title: 'later' });
    await w.until((i) => i.pending[0]?.state === 'applied', 'the call applied locally');
    proxy.block(false);
    await w.until((i) => i.connection === 'connected' && i.pendingCount === 0, 'the call confirmed after the reconnect');
    w.stop();
  });

  test('a client nobody watches keeps its errors but no confirmations', async () => {
    const c = viaProxy();
    await c.mutate.init().server;
    await c.mutate.serverOnlyFail({ id: 'x' }).server.catch(() => {});
    await c.mutate.addTodo({ id: 'a', title: 'a' }).server;
    const inspection = await c.inspection();
    expect(inspection.settled).toEqual([]);
    expect(inspection.errors.map((e) => [e.source, e.code, e.seq])).toEqual([['rejected', 'reducer_error', 2]]);
  });

  test('a partial replica counts the pages it fetched and holds', async () => {
    const writer = h.client();
    await writer.mutate.init().server;
    for (let i = 0; i < 200; i++) writer.mutate.addTodo({ id: `t${i}`, title: 'y'.repeat(100) });
    await writer.synced();
    const partial = h.client({ partial: true });
    await partial.synced();
    const before = await partial.inspection();
    await partial.query('SELECT count(*) FROM todos WHERE title LIKE ?', ['%y%']);
    const after = await partial.inspection();
    expect(after.pages.fetched).toBeGreaterThan(before.pages.fetched);
    expect(after.pages.held).toBeGreaterThan(before.pages.held);
    expect(after.pages.held).toBeLessThanOrEqual(after.pages.total);
  });
});

describe('a mutation in a commit not yet durable', () => {
  const notes = defineReducers({
    init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY)'),
    add: (tx, { id }: { id: string }) => tx.exec('INSERT INTO notes (id) VALUES (?)', [id]),
  });
  // Appends wait here while `holding`, then go on when released.
  const held: Array<() => void> = [];
  let holding = false;
  let dataDir: string;
  let server: SyncServer<typeof notes>;
  const clients: QuireClient<typeof notes>[] = [];

  afterEach(async () => {
    holding = false;
    for (const go of held.splice(0)) go();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('is committed while the log holds it back, then confirmed', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-inspect-'));
    server = createSyncServer({
      reducers: notes,
      dataDir,
      logger: createLogger({ level: 'silent' }),
      commitLog: (_docId, dir) => {
        const log = new FileCommitLog(dir);
        const append = log.append.bind(log);
        log.append = (records: readonly CommitRecord[]) =>
          holding ? new Promise<void>((resolve, reject) => void held.push(() => append(records).then(resolve, reject))) : append(records);
        return log;
      },
    });
    const { url } = await server.listen(0);
    const client = (clientId: string) => {
      const c = createClient({ url, docId: 'doc', reducers: notes, clientId, reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
      clients.push(c);
      return c;
    };
    const writer = client('writer');
    const other = client('other');
    await writer.mutate.init().server;
    await other.synced();
    const w = watch(writer);

    holding = true;
    const confirmed = writer.mutate.add({ id: 'mine' }).server;
    // A commit of the writer's call alone reaches it once durable; the other's next commit releases it as it is.
    await waitFor(async () => held.length === 1, 'the writer\'s commit to wait for the log');
    other.mutate.add({ id: 'theirs' });
    const committed = await w.until((i) => i.pending[0]?.state === 'committed', 'the writer to see its call in a commit not yet durable');
    expect(committed.lsn).toBeGreaterThan(committed.durableLsn);
    expect(states(committed)).toEqual([[2, 'committed']]);

    holding = false;
    for (const go of held.splice(0)) go();
    const { lsn } = await confirmed;
    const done = await w.until((i) => i.pendingCount === 0 && i.settled[0]?.seq === 2, 'the call confirmed once durable');
    expect(done.settled[0]).toMatchObject({ state: 'confirmed', lsn });
    w.stop();
  });
});
