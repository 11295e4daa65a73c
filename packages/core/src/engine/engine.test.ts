import { describe, expect, test } from 'vitest';
import { MutationRejectedError } from '../errors.js';
import { defineReducers, validated } from '../reducers/define-reducers.js';
import { fakeServer } from '../../test/fake-server.js';
import { Engine } from './engine.js';

const reducers = defineReducers({
  add: (tx, { id }: { id: string }) => void tx.exec('INSERT INTO items (id) VALUES (?)', [id]),
});

const ids = (engine: Engine) => engine.query<{ id: string }>('SELECT id FROM items ORDER BY id').then((r) => r.map((x) => x.id));

describe('Engine', () => {
  test('rebase settles what the base contains and replays the rest on top', async () => {
    const server = await fakeServer();
    const engine = new Engine({ reducers, clientId: 'c1' });
    await engine.applyServerUpdate(server.snapshot(() => {}, {}), []);
    const first = engine.mutate('add', { id: 'a' });
    const second = engine.mutate('add', { id: 'b' });
    await second.local;
    expect(await ids(engine)).toEqual(['a', 'b']);
    expect(engine.pendingCount).toBe(2);

    // The server applied seq 1 and, concurrently, someone else's 'z'.
    await engine.applyServerUpdate(server.snapshot(() => server.db.exec("INSERT INTO items VALUES ('a'), ('z')"), { c1: 1 }), []);
    await expect(first.server).resolves.toEqual({ lsn: 2 });
    expect(engine.pendingCount).toBe(1);
    expect(await ids(engine)).toEqual(['a', 'b', 'z']);
    await engine.close();
  });

  test('a rejected mutation leaves no trace and rejects its server promise', async () => {
    const server = await fakeServer();
    const engine = new Engine({ reducers, clientId: 'c1' });
    await engine.applyServerUpdate(server.snapshot(() => {}, {}), []);
    const doomed = engine.mutate('add', { id: 'x' });
    const later = engine.mutate('add', { id: 'y' });
    await later.local;
    await engine.applyServerUpdate(server.snapshot(() => server.db.exec("INSERT INTO items VALUES ('y')"), { c1: 2 }), [
      { seq: 1, code: 'reducer_error', message: 'no x for you' },
    ]);
    await expect(doomed.server).rejects.toThrow(MutationRejectedError);
    await expect(doomed.server).rejects.toMatchObject({ code: 'reducer_error', message: 'no x for you', reducer: 'add', seq: 1 });
    await expect(later.server).resolves.toEqual({ lsn: 2 });
    expect(await ids(engine)).toEqual(['y']);
    await engine.close();
  });

  test('unknown reducers and bad arguments fail before anything is queued', async () => {
    const engine = new Engine({ reducers, clientId: 'c1' });
    const unknown = engine.mutate('nope', {});
    await expect(unknown.local).rejects.toMatchObject({ code: 'unknown_reducer' });
    await expect(unknown.server).rejects.toMatchObject({ code: 'unknown_reducer' });
    expect(engine.pendingCount).toBe(0);
    await engine.close();
  });

  test("a pending mutation's arguments are decoded and checked once, however often it replays", async () => {
    let checks = 0;
    const counted = defineReducers({
      add: validated<{ id: string }>(
        {
          '~standard': {
            version: 1,
            vendor: 'test',
            validate: (value) => {
              checks++;
              return { value: value as { id: string } };
            },
          },
        },
        (tx, { id }) => void tx.exec('INSERT INTO items (id) VALUES (?)', [id]),
      ),
    });
    const server = await fakeServer();
    const engine = new Engine({ reducers: counted, clientId: 'c1' });
    await engine.applyServerUpdate(server.snapshot(), []);
    const m = engine.mutate('add', { id: 'a' });
    await m.local;
    // Three rebases that do not settle it: each replays it on the new base.
    for (const id of ['x', 'y', 'z']) await engine.applyServerUpdate(server.snapshot(server.add(id)), []);
    expect(await ids(engine)).toEqual(['a', 'x', 'y', 'z']);
    expect(checks).toBe(1);
    await engine.close();
  });

  test('close rejects what is still pending', async () => {
    const engine = new Engine({ reducers, clientId: 'c1' });
    await engine.ready();
    await engine.query("SELECT 1");
    const m = engine.mutate('add', { id: 'a' });
    await engine.close();
    await expect(m.server).rejects.toMatchObject({ code: 'client_closed' });
  });
});
