import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { reducers, type TodoReducers } from './reducers.js';
import { ROW_LIMIT, toReadOnlyQuery } from './read-only-sql.js';

function refusal(sql: string): string {
  const query = toReadOnlyQuery(sql);
  if (query.ok) throw new Error(`expected "${sql}" to be refused, got ${query.sql}`);
  return query.message;
}

describe('statements the panel refuses before running anything', () => {
  test('writes and pragmas name the statement', () => {
    expect(refusal('DELETE FROM todos')).toMatch(/Only SELECT queries run here, and DELETE statements could write/);
    expect(refusal('  /* hi */ -- there\n update todos set title = 1')).toMatch(/UPDATE statements/);
    expect(refusal('PRAGMA foreign_keys = OFF')).toMatch(/pragma_table_info/);
  });

  test('only one statement at a time, wherever the semicolon hides', () => {
    expect(refusal('SELECT 1; DELETE FROM todos')).toMatch(/One statement at a time/);
    expect(refusal("SELECT ';' AS a; DROP TABLE todos")).toMatch(/One statement at a time/);
  });

  test('an empty query asks for one', () => {
    expect(refusal('  ')).toMatch(/Type a SELECT/);
    expect(refusal('-- just a comment\n;')).toMatch(/Type a SELECT/);
  });
});

describe('queries on a real replica', () => {
  let client: QuireClient<TodoReducers>;
  const run = (sql: string) => {
    const query = toReadOnlyQuery(sql);
    if (!query.ok) throw new Error(query.message);
    return client.query(query.sql);
  };

  beforeAll(async () => {
    // Never connects: the panel only ever reads the local replica.
    client = createClient({ url: 'ws://127.0.0.1:9', docId: 'sql-panel', reducers, offline: true });
    client.mutate.init();
    for (const title of ['beta', 'alpha', 'gamma']) client.mutate.addTodo({ id: title, title });
    await client.ready();
  });
  afterAll(() => client.close());

  test('keeps the order, the column names, quoted semicolons and trailing comments', async () => {
    expect(await run('SELECT title, length(title) AS n FROM todos ORDER BY title DESC; -- newest last')).toEqual([
      { title: 'gamma', n: 5 },
      { title: 'beta', n: 4 },
      { title: 'alpha', n: 5 },
    ]);
    expect(await run("SELECT ';' AS semi -- ) comment")).toEqual([{ semi: ';' }]);
    expect(await run('VALUES (1, 2)')).toEqual([{ column1: 1, column2: 2 }]);
  });

  test('a write hidden behind WITH fails to compile and changes nothing', async () => {
    expect(toReadOnlyQuery('WITH doomed AS (SELECT 1) DELETE FROM todos').ok).toBe(true);
    await expect(run('WITH doomed AS (SELECT 1) DELETE FROM todos')).rejects.toThrow(/syntax error/);
    expect(await client.query('SELECT count(*) AS n FROM todos')).toEqual([{ n: 3 }]);
  });

  test('fetches one row past the limit so the panel can say there are more', async () => {
    const rows = await run('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 5000) SELECT i FROM n');
    expect(rows).toHaveLength(ROW_LIMIT + 1);
  });
});
