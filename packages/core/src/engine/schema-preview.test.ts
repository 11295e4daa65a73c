import { describe, expect, test } from 'vitest';
import { defineApp } from '../reducers/define-app.js';
import { fakeServer } from '../../test/fake-server.js';
import { Engine } from './engine.js';

const app = defineApp({
  version: 1,
  migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY)', (tx) => void tx.exec('CREATE TABLE tags (item TEXT NOT NULL, tag TEXT NOT NULL)')],
  reducers: {
    add: (tx, { id }: { id: string }) => void tx.exec('INSERT INTO items (id) VALUES (?)', [id]),
  },
});

const ids = (engine: Engine) => engine.query<{ id: string }>('SELECT id FROM items ORDER BY id').then((r) => r.map((x) => x.id));

describe('a replica that never synced shows the app schema', () => {
  test('queries and calls work before the first snapshot, and the snapshot replaces the preview', async () => {
    const engine = new Engine({ reducers: app, clientId: 'c1' });
    expect(await ids(engine)).toEqual([]);
    expect(await engine.query('SELECT * FROM tags')).toEqual([]);
    const call = engine.mutate('add', { id: 'a' });
    await call.local;
    expect(await ids(engine)).toEqual(['a']);

    // The server's document (fakeServer starts with an items table), where someone else added 'z'.
    const server = await fakeServer();
    await engine.applyServerUpdate(server.snapshot(() => server.db.exec("INSERT INTO items VALUES ('z')"), {}), []);
    // The call replays on the server's schema; the preview's extra table is gone.
    expect(await ids(engine)).toEqual(['a', 'z']);
    await expect(engine.query('SELECT * FROM tags')).rejects.toThrow(/no such table: tags/);
    expect(engine.pendingCount).toBe(1);
    await engine.close();
  });

  test('a step that fails on the client leaves no half schema: calls wait for the server', async () => {
    const broken = defineApp({ version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY)', 'CREATE TABLE items (id TEXT)'], reducers: app.definitions });
    const engine = new Engine({ reducers: broken, clientId: 'c1' });
    await expect(engine.query('SELECT * FROM items')).rejects.toThrow(/no such table: items/);
    await engine.close();
  });
});
