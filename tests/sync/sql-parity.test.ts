import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MutationRejectedError, type MutateApi, type MutationHandle, type QuireClient, type Reducers, type Row } from '@quire/core';
import type { SyncServer } from '@quire/server';
import { ClientPool } from '../helpers/client-pool.js';
import { PARITY_QUERIES, parityReducers, type ParityReducers } from '../helpers/parity-reducers.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';

type Client = QuireClient<ParityReducers>;

const MAX_SAFE = 2 ** 53 - 1;
const bytes = (...values: number[]) => new Uint8Array(values);
const bigBlob = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);

async function rowsOf(client: Client): Promise<Row[][]> {
  const out: Row[][] = [];
  for (const sql of PARITY_QUERIES) out.push(await client.query(sql));
  return out;
}

/** Settles a promise into a value the test can inspect. */
function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('SQL parity between the client engine and the server', () => {
  let h: Harness<ParityReducers>;
  let pool: ClientPool<ParityReducers>;
  let server: SyncServer<Reducers>;
  beforeEach(async () => {
    h = await startHarness(parityReducers);
    pool = new ClientPool(parityReducers, h.url);
    server = h.server as unknown as SyncServer<Reducers>;
  });
  afterEach(async () => {
    await pool.close();
    await h.close();
  });

  test('optimistic rows computed offline equal the rows the server computed', async () => {
    // Offline: every row below is computed by the client's SQLite alone.
    const p = pool.client({ clientId: 'parity-offline', offline: true });
    const m = p.mutate;
    const calls: MutationHandle[] = [
      m.schema(),
      m.addParent({ id: 1, name: `alpha "double" and 'single' quotes` }),
      m.addParent({ id: 2, name: 'βeta 🚀 日本語' }),
      m.addParent({ id: 3, name: "gamma'); DROP TABLE parents; --" }),
      m.addChild({ id: 10, parentId: 1, label: 'a' }),
      m.addChild({ id: 11, parentId: 1, label: null }),
      m.addChild({ id: 12, parentId: 2, label: 'ü' }),
      m.addChild({ id: 13, parentId: 3, label: 'x'.repeat(5000) }),
      m.putWeird({ id: 1, brackets: '[x]', backticks: MAX_SAFE, spaced: 1.5e-7, select: `it's "quoted"` }),
      m.putWeird({ id: 2, brackets: null, backticks: -MAX_SAFE, spaced: null, select: '' }),
      m.putWeird({ id: 3, brackets: '`tick`', backticks: 0, spaced: -0.5, select: 'select' }),
      // Integral JS numbers go to INTEGER columns only, and REALs are
      // non-integral (so below 2^52): see the known bugs below for why.
      m.putVals({ id: 1, t: `she said "hi"; it's fine -- not a comment`, i: MAX_SAFE, r: 0.1 + 0.2, b: bytes(0, 1, 2, 255), anything: null }),
      m.putVals({ id: 2, t: null, i: -MAX_SAFE, r: -1.5e-300, b: null, anything: undefined }),
      m.putVals({ id: 3, t: '日本語 🚀 ¿qué? Ω≈ç√', i: 0, r: 4503599627370495.5, b: bigBlob, anything: 2.5 }),
      m.putVals({ id: 4, t: 'x'.repeat(9000), i: 2 ** 40 + 1, r: Math.PI, b: bytes(), anything: bytes(9, 8, 7) }),
      m.putVals({ id: 5, t: '', i: true, r: 5e-324, b: bytes(0), anything: 'text in an untyped column' }),
      m.putVals({ id: 6, t: 'tab\tnewline\ncr\r', i: false, r: -123.456, b: bytes(...Array.from({ length: 256 }, (_, i) => i)), anything: -0.25 }),
      m.computed(),
      m.removeParent({ id: 1 }), // cascades to children 10 and 11; their delete trigger fires
      m.orphanThenParent(),
      m.observe({ source: 'reducer' }),
    ];
    const failing = { doubleQuoted: m.doubleQuoted(), orphan: m.orphan() };

    for (const [i, call] of calls.entries()) {
      const local = await settle(call.local);
      expect(local.ok, `local apply of call ${i}: ${local.ok ? '' : String(local.error)}`).toBe(true);
    }
    const localDq = await settle(failing.doubleQuoted.local);
    const localFk = await settle(failing.orphan.local);
    expect(localDq.ok ? 'applied' : String((localDq.error as Error).message)).toMatch(/no such column: "?not a string/);
    expect(localFk.ok ? 'applied' : String((localFk.error as Error).message)).toMatch(/FOREIGN KEY constraint failed/);

    expect(p.status().lsn, 'nothing came from the server yet').toBe(0);
    expect(p.status().pending).toBe(calls.length + 2);
    const optimistic = await rowsOf(p);
    // Sanity: the interesting rows are there (and the failed ones left nothing).
    expect(optimistic[1]!.map((r) => r.id)).toEqual([12, 13, 902]);
    expect(optimistic[2]!.map((r) => r.what)).toEqual([
      'child 10 of 1',
      'child 11 of 1',
      'child 12 of 2',
      'child 13 of 3',
      'child 10 gone',
      'child 11 gone',
      'child 902 of 777',
    ]);
    expect(optimistic[4]!.find((r) => r.id === 3)!.b).toEqual(bigBlob);
    expect(optimistic[4]!.some((r) => r.id === 900)).toBe(false);

    // Now let the server run the same calls.
    p.connect();
    for (const [i, call] of calls.entries()) {
      const result = await settle(call.server);
      expect(result.ok, `server apply of call ${i}: ${result.ok ? '' : String(result.error)}`).toBe(true);
    }
    const serverDq = await settle(failing.doubleQuoted.server);
    const serverFk = await settle(failing.orphan.server);
    for (const [result, pattern, reducer] of [
      [serverDq, /no such column: "?not a string/, 'doubleQuoted'],
      [serverFk, /FOREIGN KEY constraint failed/, 'orphan'],
    ] as const) {
      expect(result.ok, `${reducer} must be rejected by the server`).toBe(false);
      const error = (result as { error: unknown }).error as MutationRejectedError;
      expect(error).toBeInstanceOf(MutationRejectedError);
      expect(error.code).toBe('reducer_error');
      expect(error.reducer).toBe(reducer);
      expect(error.message).toMatch(pattern);
    }
    await waitForSettled(p, server);
    await expectSamePages(p, server);

    // The server's rows, read three ways: by the server's own SQLite from
    // its pages, by this client from its new base, and by a fresh client.
    const fromServer = (await serverQuery(server, 'doc', [...PARITY_QUERIES])).results;
    const q = pool.client({ clientId: 'parity-fresh' });
    await waitForSettled(q, server);
    await expectSamePages(q, server);
    expect(optimistic[5]![0]!.source).toBe('reducer');
    for (const [i, sql] of PARITY_QUERIES.entries()) {
      expect.soft(optimistic[i], `optimistic vs server: ${sql}`).toEqual(fromServer[i]);
    }
    expect(await rowsOf(p)).toEqual(fromServer);
    expect(await rowsOf(q)).toEqual(fromServer);
  });

  test('foreign keys and double-quoted literals are refused on both sides, and leave nothing behind', async () => {
    const online = pool.client({ clientId: 'parity-online' });
    await online.mutate.schema().server;
    await online.mutate.addParent({ id: 1, name: 'p' }).server;
    await online.mutate.addChild({ id: 1, parentId: 1, label: 'c' }).server;
    await waitForSettled(online, server);
    const before = await rowsOf(online);

    const violations = [
      online.mutate.orphan(),
      online.mutate.doubleQuoted(),
      online.mutate.addChild({ id: 2, parentId: 999, label: 'no parent' }),
    ];
    for (const v of violations) {
      expect((await settle(v.local)).ok, `local apply of seq ${v.seq}`).toBe(false);
      const result = await settle(v.server);
      expect(result.ok, `server apply of seq ${v.seq}`).toBe(false);
      expect((result as { error: unknown }).error).toBeInstanceOf(MutationRejectedError);
    }
    // A later, valid call still applies; the cascade runs on the server too.
    await online.mutate.removeParent({ id: 1 }).server;
    await waitForSettled(online, server);
    await expectSamePages(online, server);
    const after = await rowsOf(online);
    expect(after[0]).toEqual([]);
    expect(after[1]).toEqual([]);
    expect(after[2]!.map((r) => r.what)).toEqual([...before[2]!.map((r) => r.what), 'child 1 gone']);
    expect((await serverQuery(server, 'doc', [...PARITY_QUERIES])).results).toEqual(after);
  });
  /** Runs calls on an offline client, then lets the server run them; returns both sides' rows. */
  async function optimisticThenServer(docId: string, run: (m: MutateApi<ParityReducers>) => MutationHandle[], queries: string[]) {
    const p = pool.client({ docId, clientId: `${docId}-client`, offline: true });
    const handles = run(p.mutate);
    for (const handle of handles) expect((await settle(handle.local)).ok, `local apply of seq ${handle.seq}`).toBe(true);
    const optimistic: Row[][] = [];
    for (const sql of queries) optimistic.push(await p.query(sql));
    p.connect();
    for (const handle of handles) expect((await settle(handle.server)).ok, `server apply of seq ${handle.seq}`).toBe(true);
    await waitForSettled(p, server, docId);
    await expectSamePages(p, server, docId);
    const { results } = await serverQuery(server, docId, queries);
    return { optimistic, fromServer: results };
  }

  // Divergences this suite once found, now fixed: each guards its fix.

  test('a whole JS number binds as INTEGER on both sides, a fractional one as REAL', async () => {
    // better-sqlite3 binds every JS number as a double and sqlite-wasm binds
    // whole ones as int64; normalizeParam makes both bind safe integers as INTEGER.
    const { optimistic, fromServer } = await optimisticThenServer(
      'ints',
      (m) => [
        m.execSql({ sql: 'CREATE TABLE probe (id INTEGER PRIMARY KEY, t TEXT, u, half)' }),
        m.execSql({ sql: 'INSERT INTO probe VALUES (1, ?, ?, ? / 2)', params: [5, 5, 5] }),
        m.execSql({ sql: 'INSERT INTO probe VALUES (2, ?, ?, NULL)', params: [true, false] }),
      ],
      ['SELECT id, t, u, typeof(u) AS tu, half FROM probe ORDER BY id'],
    );
    expect(optimistic).toEqual(fromServer);
    expect(optimistic[0]).toEqual([
      { id: 1, t: '5', u: 5, tu: 'integer', half: 2 },
      { id: 2, t: '1', u: 0, tu: 'integer', half: null },
    ]);
  });

  test('integral doubles at or above 2^53 keep their value on the client (sqlite-wasm would wrap them through int64)', async () => {
    const { optimistic, fromServer } = await optimisticThenServer(
      'bigreals',
      (m) => [
        m.execSql({ sql: 'CREATE TABLE probe (id INTEGER PRIMARY KEY, r REAL)' }),
        m.execSql({ sql: 'INSERT INTO probe VALUES (1, ?), (2, ?), (3, ?)', params: [1e308, 2 ** 64, -1e20] }),
      ],
      ['SELECT id, r FROM probe ORDER BY id'],
    );
    expect(optimistic).toEqual(fromServer);
    expect(optimistic[0]).toEqual([{ id: 1, r: 1e308 }, { id: 2, r: 2 ** 64 }, { id: 3, r: -1e20 }]);
  });

  test('recursive_triggers is ON on both sides: REPLACE fires delete triggers and triggers re-fire', async () => {
    const { optimistic, fromServer } = await optimisticThenServer(
      'rectrig',
      (m) => [
        m.execSql({
          sql: `CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);
                CREATE TABLE log (n INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
                CREATE TABLE countdown (n INTEGER);
                CREATE TRIGGER items_gone AFTER DELETE ON items BEGIN INSERT INTO log (what) VALUES ('deleted ' || OLD.id); END;
                CREATE TRIGGER count_down AFTER INSERT ON countdown WHEN NEW.n > 0 BEGIN INSERT INTO countdown VALUES (NEW.n - 1); END;`,
        }),
        m.execSql({ sql: 'INSERT INTO items VALUES (1, ?)', params: ['a'] }),
        m.execSql({ sql: 'INSERT OR REPLACE INTO items VALUES (1, ?)', params: ['b'] }),
        m.execSql({ sql: 'INSERT INTO countdown VALUES (3)' }),
      ],
      ['SELECT * FROM log ORDER BY n', 'SELECT n FROM countdown ORDER BY n', 'PRAGMA recursive_triggers'],
    );
    // The pragma row is per connection: serverQuery reads on a connection of its own.
    expect(optimistic.slice(0, 2)).toEqual(fromServer.slice(0, 2));
    expect(optimistic[0]!.map((r) => r.what)).toEqual(['deleted 1']);
    expect(optimistic[1]).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
  });

  test('KNOWN DIVERGENCE (documented): LIKE matches blobs on the client but not on the server', async () => {
    // better-sqlite3 is built with SQLITE_LIKE_DOESNT_MATCH_BLOBS; sqlite-wasm
    // is not. A compile-time option, so no pragma can align them; the server's
    // result wins at rebase. If this starts failing, the builds now agree.
    const { optimistic, fromServer } = await optimisticThenServer(
      'likeblob',
      (m) => [
        m.execSql({ sql: 'CREATE TABLE probe (id INTEGER PRIMARY KEY, v)' }),
        m.execSql({ sql: 'INSERT INTO probe VALUES (1, ?), (2, ?)', params: [new Uint8Array([0x41, 0x42]), 'AB'] }),
        m.execSql({ sql: "CREATE TABLE matched AS SELECT id FROM probe WHERE v LIKE 'A%'" }),
      ],
      ['SELECT id FROM matched ORDER BY id'],
    );
    expect(optimistic).toEqual([[{ id: 1 }, { id: 2 }]]);
    expect(fromServer).toEqual([[{ id: 2 }]]);
  });
});
