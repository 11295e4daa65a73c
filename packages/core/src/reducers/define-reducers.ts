import type { StandardSchemaV1 } from '@standard-schema/spec';
import { QuireError } from '../errors.js';
import type { ReducerContext, Tx } from './tx.js';

/**
 * A reducer: a synchronous, deterministic function of the database and its
 * arguments. Treat `args` as read-only: the client replays a pending call with
 * the same decoded object after every rebase.
 */
export type ReducerFn<A> = (tx: Tx, args: A, ctx: ReducerContext) => ReducerResult;

/**
 * What a reducer may return: anything but a promise (the value is ignored).
 * An `async` reducer does not compile, and `defineReducers` refuses one
 * with `async_reducer`; a call that returns a promise anyway is refused then.
 */
export type ReducerResult = void | null | string | number | bigint | boolean | symbol | NotAPromise;

/** Any object without a `then` method. */
export type NotAPromise = object & { then?: never };

/** A reducer whose arguments are validated at runtime with any Standard Schema (zod, valibot, arktype…). */
export interface ValidatedReducer<A> {
  args: StandardSchemaV1<unknown, A>;
  run: ReducerFn<A>;
}

export type ReducerDefinition<A> = ReducerFn<A> | ValidatedReducer<A>;

/** Any reducer definition; argument types are recovered with {@link ReducerArgs}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyReducerDefinition = ReducerFn<any> | ValidatedReducer<any>;

/** The result of {@link defineReducers}: the definitions, typed for `client.mutate`. */
export interface Reducers<D extends Record<string, AnyReducerDefinition> = Record<string, AnyReducerDefinition>> {
  readonly definitions: Readonly<D>;
}

type ArgsOf<D> =
  D extends ValidatedReducer<infer A> ? A : D extends (tx: Tx, args: infer A, ctx: ReducerContext) => void ? A : never;

/** Argument types by reducer name. */
export type ReducerArgs<R extends Reducers> = R extends Reducers<infer D> ? { [K in keyof D]: ArgsOf<D[K]> } : never;

/**
 * Declares the named reducers of an app. Argument types come from each
 * reducer's `args` annotation (or its schema, see {@link validated}), so
 * `client.mutate.addTodo({ id, title })` is type-checked.
 *
 * @example
 * const reducers = defineReducers({
 *   addTodo: (tx, args: { id: string; title: string }) => {
 *     tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [args.id, args.title]);
 *   },
 *   toggle: validated(z.object({ id: z.string() }), (tx, { id }) => {
 *     tx.exec('UPDATE todos SET completed = NOT completed WHERE id = ?', [id]);
 *   }),
 * });
 */
export function defineReducers<const D extends Record<string, AnyReducerDefinition>>(definitions: D): Reducers<D> {
  for (const [name, def] of Object.entries(definitions)) {
    // The wire uses "" for "the reducer named in the previous push" (protocol 9).
    if (name === '') throw new TypeError('a reducer cannot be named "" (the empty string) — give it a name');
    const ok = typeof def === 'function' || (typeof def === 'object' && def !== null && typeof def.run === 'function');
    if (!ok) throw new TypeError(`reducer "${name}" must be a function or validated(schema, fn) — got ${typeof def}`);
    // Caught here, at startup, rather than at each call (see invoke-reducer.ts for one that returns a promise anyway).
    if (isAsyncFunction(typeof def === 'function' ? def : def.run)) {
      throw new QuireError('async_reducer', `reducer "${name}" is an async function — a reducer must be synchronous: remove async/await and do every read and write before returning`);
    }
  }
  return { definitions };
}

function isAsyncFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/**
 * Throws `reducers_not_found` unless `options.reducers` is what defineApp or
 * defineReducers made: JavaScript callers and `.ts` files loaded without a
 * type check get a reason, not a TypeError deep inside.
 */
export function assertReducersOption(options: object, where: string): void {
  const reducers = (options as { reducers?: unknown }).reducers;
  const definitions = (reducers as { definitions?: unknown } | null | undefined)?.definitions;
  if (typeof definitions === 'object' && definitions !== null) return;
  const given = Object.keys(options).filter((key) => key !== 'reducers');
  const got =
    reducers === undefined
      ? `no \`reducers\`${given.length > 0 ? ` (options given: ${given.join(', ')})` : ''}`
      : `a \`reducers\` that is ${Array.isArray(reducers) ? 'an array' : typeof reducers === 'object' && reducers !== null ? 'a plain object' : typeof reducers}`;
  throw new QuireError('reducers_not_found', `${where} needs the app as \`reducers\`: the result of defineApp({ version, migrations, reducers }) or defineReducers({...}) — got ${got}`);
}

/**
 * A reducer whose arguments are checked at runtime, on the client before the
 * optimistic apply and again on the server. Takes any synchronous Standard
 * Schema (zod, valibot, arktype…).
 */
export function validated<A>(args: StandardSchemaV1<unknown, A>, run: ReducerFn<A>): ValidatedReducer<A> {
  return { args, run };
}
