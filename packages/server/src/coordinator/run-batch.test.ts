import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { QuireError, defineReducers, type ReducerFn, type Tx } from '@quire/core';
import { CLIENTS_TABLE, CLIENTS_TABLE_DDL, encodeArgs } from '@quire/core/internal';
import { MAX_REJECTION_CODE, MAX_REJECTION_MESSAGE } from '../log/commit-log.js';
import { encodeRecord } from '../log/commit-record-codec.js';
import { capRejectionMessage, runBatch } from './run-batch.js';
import { ServerTx } from './server-tx.js';

const reducers = defineReducers({
  add: (tx, { id }: { id: string }) => {
    tx.exec('INSERT INTO items (id) VALUES (?)', [id]);
    if (id.startsWith('bad')) throw new Error(`refusing ${id}`);
  },
});

function setup() {
  const db = new Database(':memory:');
  db.exec(`${CLIENTS_TABLE_DDL}; CREATE TABLE items (id TEXT PRIMARY KEY)`);
  return { db, tx: new ServerTx(db) };
}

const m = (clientId: string, seq: number, id: string, name = 'add') => ({ clientId, seq, name, argsJson: encodeArgs({ id }), userId: undefined });

describe('runBatch', () => {
  test('a throwing reducer rolls back alone; its seq is still consumed', () => {
    const { db, tx } = setup();
    const result = runBatch(db, tx, reducers, [m('a', 1, 'x'), m('a', 2, 'bad-1'), m('b', 1, 'y'), m('a', 3, 'z')]);
    expect(db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual(['x', 'y', 'z']);
    expect(result.rejections).toEqual([{ clientId: 'a', seq: 2, code: 'reducer_error', message: 'refusing bad-1' }]);
    expect(result.outcomes.map((o) => o?.seq)).toEqual([undefined, 2, undefined, undefined]);
    expect(db.prepare(`SELECT client_id, last_seq FROM ${CLIENTS_TABLE} ORDER BY client_id`).all()).toEqual([
      { client_id: 'a', last_seq: 3 },
      { client_id: 'b', last_seq: 1 },
    ]);
  });

  test('unknown reducers and undecodable arguments are rejected without touching the data', () => {
    const { db, tx } = setup();
    const garbage = { clientId: 'a', seq: 2, name: 'add', argsJson: '{not json', userId: undefined };
    const result = runBatch(db, tx, reducers, [m('a', 1, 'x', 'drop_everything'), garbage]);
    expect(result.rejections.map((r) => r.code)).toEqual(['unknown_reducer', 'invalid_args']);
    expect(db.prepare('SELECT count(*) FROM items').pluck().get()).toBe(0);
    expect(db.prepare(`SELECT last_seq FROM ${CLIENTS_TABLE} WHERE client_id = 'a'`).pluck().get()).toBe(2);
  });

  test('a reducer that tries to end the transaction is rejected alone', () => {
    const { db, tx } = setup();
    const rogue = defineReducers({ add: (t, { id }: { id: string }) => void (t.exec('INSERT INTO items VALUES (?)', [id]), t.exec('COMMIT')) });
    const result = runBatch(db, tx, rogue, [m('a', 1, 'x')]);
    expect(result.rejections.map((r) => r.code)).toEqual(['transaction_control']);
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) FROM items').pluck().get()).toBe(0);
    expect(db.prepare(`SELECT last_seq FROM ${CLIENTS_TABLE}`).pluck().get()).toBe(1);
  });

  test('rejection messages are cut to MAX_REJECTION_MESSAGE, whatever the client sent or the reducer said', () => {
    const { db, tx } = setup();
    const result = runBatch(db, tx, reducers, [m('a', 1, `bad-${'y'.repeat(100_000)}`), m('a', 2, 'x', 'n'.repeat(900_000)), m('a', 3, 'bad-short')]);
    const [long, unknown, short] = result.rejections.map((r) => r.message);
    expect(long).toBe(`refusing bad-${'y'.repeat(MAX_REJECTION_MESSAGE - 'refusing bad-'.length - 1)}…`);
    expect(unknown).toBe(`no reducer named "${'n'.repeat(200)}" — check the name, or deploy the reducers this client was built with to the server`);
    expect(short).toBe('refusing bad-short');
  });

  test('capRejectionMessage keeps short messages whole and never splits a surrogate pair', () => {
    expect(capRejectionMessage('x'.repeat(MAX_REJECTION_MESSAGE))).toBe('x'.repeat(MAX_REJECTION_MESSAGE));
    const cut = capRejectionMessage(`${'x'.repeat(MAX_REJECTION_MESSAGE - 2)}😀😀`);
    expect(cut).toBe(`${'x'.repeat(MAX_REJECTION_MESSAGE - 2)}…`);
    expect(cut.length).toBeLessThanOrEqual(MAX_REJECTION_MESSAGE);
  });

  test('an async reducer is rejected alone, and its continuation cannot write after the batch committed', async () => {
    const { db, tx } = setup();
    let late: unknown;
    // Does not compile without the cast, and defineReducers refuses an `async` function:
    // a plain function that returns a promise (transpiled async, say) must be refused when it runs.
    const addLaterAsync = async (t: Tx, { id }: { id: string }) => {
      t.exec('INSERT INTO items VALUES (?)', [`${id}-early`]);
      await new Promise((r) => setTimeout(r, 5));
      try {
        t.exec('INSERT INTO items VALUES (?)', [id]);
      } catch (error) {
        late = error;
      }
    };
    const addLater = ((t: Tx, args: { id: string }) => addLaterAsync(t, args)) as unknown as ReducerFn<{ id: string }>;
    const withAsync = defineReducers({ add: reducers.definitions.add, addLater });
    const result = runBatch(db, tx, withAsync, [m('a', 1, 'x'), m('a', 2, 'y', 'addLater'), m('a', 3, 'z')]);
    expect(result.rejections).toEqual([
      { clientId: 'a', seq: 2, code: 'async_reducer', message: 'reducer "addLater" returned a promise — a reducer must be synchronous: remove async/await and do every read and write before returning' },
    ]);
    await new Promise((r) => setTimeout(r, 30));
    expect(late).toMatchObject({ code: 'async_reducer' });
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual(['x', 'z']);
    // The next batch commits normally.
    runBatch(db, tx, withAsync, [m('a', 4, 'w')]);
    expect(db.prepare('SELECT id FROM items ORDER BY id').pluck().all()).toEqual(['w', 'x', 'z']);
  });

  test('a reducer error code that is not a short identifier becomes invalid_error_code, keeping the message', () => {
    const { db, tx } = setup();
    const coded = defineReducers({
      fail: (t, { code }: { code: string }) => {
        t.exec("INSERT INTO items VALUES ('written')");
        throw new QuireError(code, 'not enough money');
      },
    });
    const codes = ['x'.repeat(70 * 1024), 'x'.repeat(MAX_REJECTION_CODE + 1), '', 'has space', 'naïve', 'line\nbreak'];
    const kept = ['x'.repeat(MAX_REJECTION_CODE), 'insufficient_funds', 'Auth.Denied:v2-x'];
    const call = (code: string, seq: number) => ({ clientId: 'a', seq, name: 'fail', argsJson: encodeArgs({ code }), userId: undefined });
    const result = runBatch(db, tx, coded, [...codes, ...kept].map((code, i) => call(code, i + 1)));
    expect(result.rejections.map((r) => r.code)).toEqual([...codes.map(() => 'invalid_error_code'), ...kept]);
    expect(result.rejections[0]!.message).toBe(
      `reducer "fail" threw an error whose code ("${'x'.repeat(32)}"…, 71680 characters) is not 1 to ${MAX_REJECTION_CODE} letters, digits, "_", ".", ":" or "-" — give its QuireError such a code. The reducer's message: not enough money`,
    );
    for (const r of result.rejections.slice(codes.length)) expect(r.message).toBe('not enough money');
    expect(db.prepare('SELECT count(*) FROM items').pluck().get()).toBe(0);
    // Whatever a reducer throws, the commit log can hold the rejections.
    const longMessages = runBatch(db, tx, reducers, [m('b', 1, `bad-${'€'.repeat(100_000)}`)]).rejections;
    expect(() => encodeRecord({ lsn: 1, pageCount: 1, pages: [], settled: [], rejections: [...result.rejections, ...longMessages], volume: { salt1: 0, salt2: 0, offset: 0 } })).not.toThrow();
  });
});
