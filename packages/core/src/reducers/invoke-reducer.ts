import { QuireError } from '../errors.js';
import { decodeArgs } from './args-codec.js';
import type { AnyReducerDefinition, Reducers } from './define-reducers.js';
import { CallTx } from './reducer-tx.js';
import type { ReducerContext, Tx } from './tx.js';

/**
 * A reducer call ready to run: its definition and its arguments, decoded and
 * checked once. The client keeps it for every replay of the call, so each run
 * gets the same arguments object: reducers must not modify it.
 */
export interface PreparedCall {
  name: string;
  run: (tx: Tx, ctx: ReducerContext) => void;
}

/**
 * Looks the reducer up and checks its arguments, without touching the
 * database. Throws `unknown_reducer` or `invalid_args` as a `QuireError`.
 */
export function prepareCall(reducers: Reducers, name: string, argsJson: string): PreparedCall {
  const def: AnyReducerDefinition | undefined = Object.hasOwn(reducers.definitions, name)
    ? reducers.definitions[name]
    : undefined;
  if (!def) {
    throw new QuireError('unknown_reducer', `no reducer named "${name.slice(0, 200)}" — check the name, or deploy the reducers this client was built with to the server`);
  }
  const raw = decodeArgs(argsJson, name);
  if (typeof def === 'function') return { name, run: (tx, ctx) => runSynchronously(name, tx, (t) => def(t, raw, ctx)) };
  const args = validateArgs(def.args, raw, name);
  return { name, run: (tx, ctx) => runSynchronously(name, tx, (t) => def.run(t, args, ctx)) };
}

/**
 * Runs a reducer body with a `tx` that closes when it returns, and refuses a
 * returned promise: its work after the first `await` would run outside the
 * transaction. Throwing lets the caller roll the call back like any failure.
 */
function runSynchronously(name: string, tx: Tx, body: (tx: Tx) => unknown): void {
  const call = new CallTx(tx, name);
  let result: unknown;
  try {
    result = body(call);
  } finally {
    call.close();
  }
  if (isThenable(result)) {
    // Its continuation fails on the closed tx; that rejection must not crash the process.
    try {
      result.then(undefined, () => {});
    } catch {
      // A thenable whose then() throws is refused all the same.
    }
    throw new QuireError('async_reducer', `reducer "${name}" returned a promise — a reducer must be synchronous: remove async/await and do every read and write before returning`);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function validateArgs(schema: Extract<AnyReducerDefinition, { args: unknown }>['args'], value: unknown, name: string): unknown {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    throw new QuireError('invalid_reducer', `the argument schema of reducer "${name}" is asynchronous — reducers need a synchronous schema`);
  }
  if (result.issues) {
    const detail = result.issues
      .slice(0, 5)
      .map((issue) => {
        const path = issue.path?.map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.');
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join('; ');
    throw new QuireError('invalid_args', `invalid arguments for reducer "${name}": ${detail}`);
  }
  return result.value;
}

/** The message of whatever a reducer threw, for the rejection sent to its caller. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'reducer threw a non-Error value';
}

/** The stable code for a reducer failure. */
export function errorCode(error: unknown): string {
  return error instanceof QuireError ? error.code : 'reducer_error';
}
