import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MutationRejectedError, QuireError, defineReducers } from '@quire/core';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';

// Issue 11, defect 5: a reducer's QuireError with a 70 KiB code wrapped the
// code's u16 length in the commit log; the record kept a valid CRC, so the
// next open took it for a torn tail and cut every later commit.
const reducers = defineReducers({
  init: (tx) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY)');
  },
  add: (tx, { id }: { id: string }) => {
    tx.exec('INSERT INTO items (id) VALUES (?)', [id]);
  },
  refuse: (tx, { codeLength }: { codeLength: number }) => {
    tx.exec("INSERT INTO items (id) VALUES ('refused')");
    throw new QuireError('x'.repeat(codeLength), 'not today');
  },
});

describe('a reducer error with an oversized code', () => {
  let h: Harness<typeof reducers>;
  beforeEach(async () => {
    h = await startHarness(reducers);
  });
  afterEach(() => h.close());

  test('is rejected as invalid_error_code, and every later commit survives a restart', async () => {
    const [a, b] = [h.client(), h.client()];
    await a.mutate.init().server;
    await a.mutate.add({ id: 'before' }).server;

    const refused = a.mutate.refuse({ codeLength: 70 * 1024 });
    const error = await refused.server.then(
      () => expect.fail('the server applied a call whose reducer threw'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MutationRejectedError);
    expect((error as MutationRejectedError).code).toBe('invalid_error_code');
    expect((error as MutationRejectedError).message).toMatch(/71680 characters\) is not 1 to 64 letters.*The reducer's message: not today$/);

    const after = await b.mutate.add({ id: 'after' }).server;
    await h.restart();

    const c = h.client();
    for (const client of [a, b, c]) await waitForSettled(client, h.server);
    const { lsn, results } = await serverQuery(h.server, 'doc', ['SELECT id FROM items ORDER BY id']);
    expect(lsn, 'the restarted server kept every commit').toBeGreaterThanOrEqual(after.lsn);
    expect(results[0]).toEqual([{ id: 'after' }, { id: 'before' }]);
    await a.mutate.add({ id: 'after-restart' }).server;
    for (const client of [a, b, c]) {
      await waitForSettled(client, h.server);
      await expectSamePages(client, h.server);
      expect(await client.query('SELECT id FROM items ORDER BY id'), `client ${client.clientId}`).toEqual([{ id: 'after' }, { id: 'after-restart' }, { id: 'before' }]);
    }
  });
});
