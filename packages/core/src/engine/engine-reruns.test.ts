import { describe, expect, test } from 'vitest';
import { defineReducers } from '../reducers/define-reducers.js';
import type { Row } from '../reducers/tx.js';
import { fakeServer } from '../../test/fake-server.js';
import { Engine } from './engine.js';

// Each reducer call is logged, to see which ones a rebase applied again.
const applied: string[] = [];
const reducers = defineReducers({
  add: (tx, { id }: { id: string }) => {
    applied.push(`add ${id}`);
    tx.exec('INSERT INTO items (id) VALUES (?)', [id]);
  },
  note: (tx, { id }: { id: string }) => {
    applied.push(`note ${id}`);
    tx.exec('INSERT INTO notes (id) VALUES (?)', [id]);
  },
  // Reads items, writes notes: its effect depends on a page it only reads.
  countItems: (tx, { id }: { id: string }) => {
    applied.push(`countItems ${id}`);
    tx.exec('INSERT INTO notes (id) SELECT ? || count(*) FROM items', [id]);
  },
});

const ITEMS = 'SELECT id FROM items ORDER BY id';
const NOTES = 'SELECT id FROM notes ORDER BY id';

/** An engine on a fake server with tables items and notes, its live queries, and a log of the queries SQLite ran. */
async function setup(queries: string[]) {
  const server = await fakeServer();
  const engine = new Engine({ reducers, clientId: 'c1' });
  await engine.applyServerUpdate(server.snapshot(() => server.db.exec('CREATE TABLE notes (id TEXT PRIMARY KEY)')), []);
  const runs: string[] = [];
  await engine.withReplica((db) => {
    const read = db.read.bind(db);
    db.read = <R extends Row>(sql: string, params?: never) => (runs.push(sql), read<R>(sql, params));
  });
  const live = new Map<string, readonly Row[]>();
  for (const sql of queries) engine.subscribe(sql, undefined, (rows) => live.set(sql, rows));
  await settle(engine);
  runs.length = 0;
  applied.length = 0;
  /** Shows a commit (not durable) and waits for the live queries. */
  const commit = async (sql: string, settled: Record<string, number> = {}) => {
    await engine.applyServerUpdate(server.commit(() => server.db.exec(sql), settled), [], false);
    await settle(engine);
  };
  /** Every live query shows what a one-shot query reads now. */
  const expectLiveCurrent = async () => {
    for (const sql of queries) expect(live.get(sql), sql).toEqual(await engine.query(sql));
  };
  return { server, engine, runs, live, commit, expectLiveCurrent };
}

/** Waits until the refresh the last change queued has run (it runs in the replica's queue). */
async function settle(engine: Engine): Promise<void> {
  for (let i = 0; i < 3; i++) await engine.withReplica(() => undefined);
}

describe('live queries re-run only when a page they read changed', () => {
  test('a commit to one table re-runs the queries on it, not those on another', async () => {
    const { engine, runs, live, commit, expectLiveCurrent } = await setup([ITEMS, NOTES]);
    await commit("INSERT INTO items VALUES ('a')", { c2: 1 });
    expect(runs).toEqual([ITEMS]);
    expect(live.get(ITEMS)).toEqual([{ id: 'a' }]);
    runs.length = 0;
    await commit("INSERT INTO notes VALUES ('n')", { c2: 2 });
    expect(runs).toEqual([NOTES]);
    runs.length = 0;
    // Durability changes nothing a query reads.
    await engine.applyDurable(3);
    await settle(engine);
    expect(runs).toEqual([]);
    await expectLiveCurrent();
    await engine.close();
  });

  test('a local call re-runs the queries on the table it wrote, and only those', async () => {
    const { engine, runs, live, expectLiveCurrent } = await setup([ITEMS, NOTES]);
    await engine.mutate('note', { id: 'n' }).local;
    await settle(engine);
    expect(runs).toEqual([NOTES]);
    expect(live.get(NOTES)).toEqual([{ id: 'n' }]);
    await expectLiveCurrent();
    await engine.close();
  });

  test('what page 1 holds is seen: the schema, user_version and the page count', async () => {
    const SCHEMA = "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name";
    const VERSION = 'SELECT user_version FROM pragma_user_version()';
    const PAGES = 'SELECT page_count FROM pragma_page_count()';
    const { engine, live, commit, expectLiveCurrent } = await setup([SCHEMA, VERSION, PAGES, ITEMS]);
    await commit('PRAGMA user_version = 7');
    expect(live.get(VERSION)).toEqual([{ user_version: 7 }]);
    await commit('CREATE TABLE extra (x)');
    expect(live.get(SCHEMA)!.map((r) => r.name)).toContain('extra');
    const before = live.get(PAGES)![0]!.page_count as number;
    // Rows into another table: the file grows, and the count must show it.
    await commit(`INSERT INTO extra SELECT randomblob(500) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) SELECT i FROM n)`);
    expect(live.get(PAGES)![0]!.page_count).toBeGreaterThan(before);
    await expectLiveCurrent();
    await engine.close();
  });

  test('a query first run on an empty replica sees the first snapshot (it read no page then)', async () => {
    // The demo waits for its tables this way before its first sync.
    const TABLES = "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'";
    const server = await fakeServer();
    const engine = new Engine({ reducers, clientId: 'c1' });
    const live: (readonly Row[])[] = [];
    engine.subscribe(TABLES, undefined, (rows) => live.push(rows));
    await settle(engine);
    expect(live).toEqual([[{ n: 0 }]]);
    await engine.applyServerUpdate(server.snapshot(), []);
    await settle(engine);
    expect(live.at(-1)).toEqual(await engine.query(TABLES));
    expect(live.at(-1)![0]!.n).toBeGreaterThan(0);
    await engine.close();
  });

  test('pages one commit frees and the next reuses for another table: every query stays right', async () => {
    const COUNT_NOTES = 'SELECT count(*) AS n, max(length(id)) AS longest FROM notes';
    const { engine, runs, commit, expectLiveCurrent } = await setup([ITEMS, COUNT_NOTES]);
    const rows = (table: string, n: number, tag: string) =>
      `INSERT INTO ${table} SELECT '${tag}' || i || hex(randomblob(100)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT i FROM n)`;
    await commit(rows('items', 150, 'i'));
    await expectLiveCurrent();
    await commit('DELETE FROM items');
    await expectLiveCurrent();
    const freed = await engine.query<{ n: number }>('SELECT freelist_count AS n FROM pragma_freelist_count()');
    expect(freed[0]!.n).toBeGreaterThan(5);
    runs.length = 0;
    await commit(rows('notes', 150, 'n'));
    expect(runs).toContain(COUNT_NOTES);
    await expectLiveCurrent();
    await engine.close();
  });

  test('random commits and local calls over three tables: live rows always equal a fresh read, and most queries are skipped', async () => {
    const THIRD = 'SELECT k, v FROM third ORDER BY k';
    const { server, engine, runs, commit, expectLiveCurrent } = await setup([ITEMS, NOTES, THIRD, 'SELECT count(*) AS n FROM notes']);
    await commit('CREATE TABLE third (k INTEGER PRIMARY KEY, v)');
    let seed = 7;
    const random = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const steps = 80;
    let serverSeq = 0;
    runs.length = 0;
    for (let step = 0; step < steps; step++) {
      const id = `r${step}`;
      switch (random(6)) {
        case 0:
          await commit(`INSERT INTO items VALUES ('${id}')`, { c2: step + 1 });
          break;
        case 1:
          await commit(`INSERT INTO third (v) VALUES (hex(randomblob(${random(300)})))`, { c2: step + 1 });
          break;
        case 2:
          await commit(`DELETE FROM third WHERE k % 3 = ${random(3)}`, { c2: step + 1 });
          break;
        case 3:
          await commit(`INSERT INTO notes VALUES ('${id}')`, { c2: step + 1 });
          break;
        case 4:
          await engine.mutate('note', { id: `local${step}` }).local;
          await settle(engine);
          break;
        default: {
          // The server applies this client's calls so far (for real, on its own database), and makes everything durable.
          const calls = engine.pending().filter((m) => m.seq > serverSeq);
          for (const m of calls) server.db.exec('INSERT INTO notes VALUES (?)', [JSON.parse(m.argsJson).id]);
          serverSeq = Math.max(serverSeq, ...calls.map((m) => m.seq));
          await commit('SELECT 1', { c1: serverSeq });
          await engine.applyDurable(engine.lsn);
          await settle(engine);
        }
      }
      const live = runs.length;
      await expectLiveCurrent();
      // The one-shot reads that checked them are not live runs.
      runs.length = live;
    }
    // Four queries per commit and local call without the page check; far fewer ran.
    expect(runs.length).toBeLessThan(steps * 2);
    // The server applies the rest: nothing stays pending, and the rows are the server's.
    const rest = engine.pending().filter((m) => m.seq > serverSeq);
    for (const m of rest) server.db.exec('INSERT INTO notes VALUES (?)', [JSON.parse(m.argsJson).id]);
    await commit('SELECT 1', { c1: Math.max(serverSeq, ...rest.map((m) => m.seq)) });
    await engine.applyDurable(engine.lsn);
    await settle(engine);
    expect(engine.pendingCount).toBe(0);
    expect(await engine.query(NOTES)).toEqual(server.db.query(NOTES));
    await expectLiveCurrent();
    await engine.close();
  });
});

describe('the overlay stays over a commit that changed nothing the pending calls used', () => {
  test("another client's commit to another table: the pending call is not applied again", async () => {
    const { engine, live, commit, expectLiveCurrent } = await setup([ITEMS, NOTES]);
    const mine = engine.mutate('note', { id: 'mine' });
    await mine.local;
    expect(applied).toEqual(['note mine']);
    await commit("INSERT INTO items VALUES ('theirs')", { c2: 1 });
    expect(applied).toEqual(['note mine']);
    expect(live.get(ITEMS)).toEqual([{ id: 'theirs' }]);
    expect(live.get(NOTES)).toEqual([{ id: 'mine' }]);
    // Then the server applies it: shown once, and settled at durability.
    await commit("INSERT INTO notes VALUES ('mine')", { c1: 1 });
    expect(applied).toEqual(['note mine']);
    await engine.applyDurable(3);
    await expect(mine.server).resolves.toEqual({ lsn: 3 });
    expect(engine.pendingCount).toBe(0);
    await expectLiveCurrent();
    await engine.close();
  });

  test('a commit that changed a page the pending call only read: it is applied again, and its effect follows', async () => {
    const { engine, live, commit, expectLiveCurrent } = await setup([NOTES]);
    await engine.mutate('countItems', { id: 'c' }).local;
    await settle(engine);
    expect(live.get(NOTES)).toEqual([{ id: 'c0' }]);
    await commit("INSERT INTO items VALUES ('a')", { c2: 1 });
    expect(applied).toEqual(['countItems c', 'countItems c']);
    expect(live.get(NOTES)).toEqual([{ id: 'c1' }]);
    await expectLiveCurrent();
    await engine.close();
  });

  test('a commit that changed a page the pending call wrote: it is applied again on top', async () => {
    const { engine, live, commit } = await setup([ITEMS]);
    await engine.mutate('add', { id: 'b' }).local;
    await commit("INSERT INTO items VALUES ('a')", { c2: 1 });
    expect(applied).toEqual(['add b', 'add b']);
    expect(live.get(ITEMS)).toEqual([{ id: 'a' }, { id: 'b' }]);
    await engine.close();
  });

  test('a commit that holds the pending call itself is not taken for an unrelated one', async () => {
    const { server, engine, live, commit } = await setup([NOTES, ITEMS]);
    await engine.mutate('add', { id: 'x' }).local;
    // The server applied it, writing pages the client's call wrote too: covered, not applied again.
    server.db.exec("INSERT INTO items VALUES ('x')");
    await commit('SELECT 1', { c1: 1 });
    expect(applied).toEqual(['add x']);
    expect(live.get(ITEMS)).toEqual([{ id: 'x' }]);
    await engine.close();
  });
});
