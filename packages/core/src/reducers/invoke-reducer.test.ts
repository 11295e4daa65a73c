import { describe, expect, test } from 'vitest';
import { QuireError } from '../errors.js';
import { encodeArgs } from './args-codec.js';
import { defineReducers, validated, type ReducerFn } from './define-reducers.js';
import { prepareCall } from './invoke-reducer.js';
import type { Tx } from './tx.js';

/** A Tx that records the SQL it was given instead of running it. */
function recordingTx(): { tx: Tx; sql: string[] } {
  const sql: string[] = [];
  const tx: Tx = {
    exec: (s) => (sql.push(s), { changes: 1 }),
    query: (s) => (sql.push(s), []),
    get: (s) => void sql.push(s),
  };
  return { tx, sql };
}

const ctx = { clientId: 'c', seq: 1, userId: undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Async reducers do not compile, and defineReducers refuses an `async` function; a plain
// function that returns a promise gets past both (a JavaScript app, an `as any`, a transpiled async).
const asAsync = <A>(fn: (tx: Tx, args: A) => unknown) => ((tx: Tx, args: A) => fn(tx, args)) as unknown as ReducerFn<A>;

function run(reducers: ReturnType<typeof defineReducers>, name: string, args: unknown, tx: Tx): unknown {
  try {
    prepareCall(reducers, name, encodeArgs(args)).run(tx, ctx);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('prepareCall(...).run', () => {
  test('runs a synchronous reducer, whatever it returns', () => {
    const { tx, sql } = recordingTx();
    const reducers = defineReducers({ add: (t, { id }: { id: string }) => t.exec(`INSERT ${id}`) });
    expect(run(reducers, 'add', { id: 'x' }, tx)).toBeUndefined();
    expect(sql).toEqual(['INSERT x']);
  });

  test('refuses a reducer that returns a promise, plain or validated, with async_reducer', async () => {
    const { tx, sql } = recordingTx();
    const schema = { '~standard': { version: 1 as const, vendor: 't', validate: (v: unknown) => ({ value: v as { id: string } }) } };
    const body = asAsync(async (t: Tx, { id }: { id: string }) => {
      t.exec(`early ${id}`);
      await sleep(1);
      t.exec(`late ${id}`);
    });
    const reducers = defineReducers({ plain: body, checked: validated(schema, body) });
    for (const name of ['plain', 'checked']) {
      const error = run(reducers, name, { id: name }, tx);
      expect(error).toBeInstanceOf(QuireError);
      expect((error as QuireError).code).toBe('async_reducer');
      expect((error as QuireError).message).toBe(`reducer "${name}" returned a promise — a reducer must be synchronous: remove async/await and do every read and write before returning`);
    }
    // The continuations ran into the closed tx: their late writes never reached it,
    // and their rejections were handled (vitest fails a run on an unhandled one).
    await sleep(20);
    expect(sql).toEqual(['early plain', 'early checked']);
  });

  test('refuses any thenable, even one whose then() throws', () => {
    const { tx } = recordingTx();
    const reducers = defineReducers({
      thenable: asAsync(() => ({ then: () => undefined })),
      hostile: asAsync(() => ({
        then: () => {
          throw new Error('boom');
        },
      })),
    });
    expect((run(reducers, 'thenable', undefined, tx) as QuireError).code).toBe('async_reducer');
    expect((run(reducers, 'hostile', undefined, tx) as QuireError).code).toBe('async_reducer');
  });

  test('the tx is closed once the reducer returns, or throws: later calls throw and never reach the database', () => {
    const { tx, sql } = recordingTx();
    let kept: Tx | undefined;
    const reducers = defineReducers({
      keep: (t) => {
        kept = t;
        t.get('SELECT 1');
      },
      keepAndThrow: (t) => {
        kept = t;
        throw new Error('refused');
      },
    });
    for (const name of ['keep', 'keepAndThrow']) {
      run(reducers, name, undefined, tx);
      for (const call of [() => kept!.exec('DELETE'), () => kept!.query('SELECT 2'), () => kept!.get('SELECT 3')]) {
        expect(call).toThrow(expect.objectContaining({ code: 'async_reducer', message: expect.stringMatching(`reducer "${name}" used its tx after it returned`) }));
      }
    }
    expect(sql).toEqual(['SELECT 1']);
  });
});
