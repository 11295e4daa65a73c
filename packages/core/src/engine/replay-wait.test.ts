import { expect, test } from 'vitest';
import { QuireError } from '../errors.js';
import { defineReducers } from '../reducers/define-reducers.js';
import { CLIENTS_TABLE_DDL } from '../reducers/sql-dialect.js';
import { ReplicaDb } from '../replica/replica-db.js';
import { Engine } from './engine.js';

// `add` reads `meta`, which the live query never reads: after a rebase its
// replay can wait for a page while the query has every page it needs.
const reducers = defineReducers({
  add: (tx, { id }: { id: string }) => {
    const n = tx.get<{ n: number }>('SELECT n FROM meta')!.n;
    tx.exec('INSERT INTO items (id, n) VALUES (?, ?)', [id, n]);
  },
});

/**
 * A partial client with a pending `add('a')` gets a commit (someone else's
 * 'z', and a change to `meta` whose page it does not hold), so replaying
 * 'a' must fetch that page. `answer` decides how the fetch ends.
 */
async function replayWaitingForPages(answer: (apply: () => Promise<void>) => Promise<void>) {
  const server = await ReplicaDb.open();
  server.exec(`${CLIENTS_TABLE_DDL}; CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER); CREATE TABLE meta (n INTEGER); INSERT INTO meta VALUES (1)`);
  const pages = () => Array.from({ length: server.pages.pageCount() }, (_, i) => ({ pgno: i + 1, data: server.pages.read(i + 1)!.slice() }));
  const metaPage = server.get<{ rootpage: number }>("SELECT rootpage FROM sqlite_schema WHERE name = 'meta'")!.rootpage;
  let lsn = 1;
  const engine: Engine = new Engine({
    reducers,
    clientId: 'c1',
    fetchPages: (pgnos) => answer(() => engine.applyPages(lsn, server.pages.pageCount(), pages().filter((p) => pgnos.includes(p.pgno)))),
  });
  await engine.applyServerUpdate({ kind: 'snapshot', lsn, pageCount: server.pages.pageCount(), pages: pages() }, []);
  const seen: string[][] = [];
  const errors: unknown[] = [];
  engine.subscribe<{ id: string }>(
    'SELECT id FROM items ORDER BY id',
    undefined,
    (rows) => seen.push(rows.map((r) => r.id)),
    (error) => errors.push(error),
  );
  await engine.mutate('add', { id: 'a' }).local;

  server.exec("INSERT INTO items VALUES ('z', 0); UPDATE meta SET n = 2");
  lsn = 2;
  const sent = pages().filter((p) => p.pgno !== metaPage);
  await engine.applyServerUpdate({ kind: 'commit', lsn, pageCount: server.pages.pageCount(), pages: sent, forgotten: [metaPage] }, []);
  return { engine, seen, errors };
}

/** Lets the engine's serial queue and the fetch callbacks run (queries would wait for the replay). */
const settle = async (engine: Engine) => {
  for (let i = 0; i < 5; i++) await engine.withReplica(() => {});
};

test("a live query does not show the base without the user's pending mutations while their replay waits for pages", async () => {
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (release = resolve));
  const { engine, seen } = await replayWaitingForPages(async (apply) => {
    await arrived;
    await apply();
  });
  await settle(engine);
  // Before the fix the query ran while 'a' waited and reported ['z']: a flicker.
  expect(seen).toEqual([[], ['a']]);
  release();
  await settle(engine);
  expect(seen).toEqual([[], ['a'], ['a', 'z']]);
  await engine.close();
});

test('when the pages cannot be had (offline), live queries report why instead of waiting forever', async () => {
  const offline = new QuireError('offline_missing_pages', 'offline');
  const { engine, seen, errors } = await replayWaitingForPages(() => Promise.reject(offline));
  await settle(engine);
  // Never the base without 'a': the query fails, saying the local change waits.
  expect(seen).toEqual([[], ['a']]);
  expect(errors.at(-1)).toMatchObject({ code: 'offline_missing_pages' });
  await engine.close();
});

test("a one-shot query waits for the replay too, and sees the user's pending mutation", async () => {
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (release = resolve));
  const { engine } = await replayWaitingForPages(async (apply) => {
    await arrived;
    await apply();
  });
  const read = engine.query<{ id: string }>('SELECT id FROM items ORDER BY id');
  // Before the fix it answered ['z'] at once: the base without 'a'.
  setTimeout(release, 20);
  expect((await read).map((r) => r.id)).toEqual(['a', 'z']);
  await engine.close();
});
