import { type AnyReducerDefinition, type Reducers, defineReducers } from './define-reducers.js';
import type { Tx } from './tx.js';

/**
 * One step of a document's schema: SQL (a script of one or more
 * statements), or a synchronous function of the transaction for what SQL
 * alone cannot say. Only the server runs migrations.
 */
export type Migration = string | ((tx: Tx) => void);

/** What {@link defineApp} takes. */
export interface AppDefinition<D extends Record<string, AnyReducerDefinition>> {
  /**
   * The app's version, a positive integer. Bump it with every deploy whose
   * reducers or schema change: a client of an older version is told to
   * update, and one of a newer version waits for a server of its version.
   */
  version: number;
  /**
   * The schema, in order. A document's schema version is the number of
   * steps it ran. Once deployed, a step never changes: add new ones at the
   * end.
   */
  migrations?: readonly Migration[];
  reducers: D;
}

/** Reducers with the app version and the schema they belong to. */
export interface App<D extends Record<string, AnyReducerDefinition> = Record<string, AnyReducerDefinition>> extends Reducers<D> {
  readonly version: number;
  readonly migrations: readonly Migration[];
}

/**
 * Declares an app: its version, its schema as an ordered list of
 * migrations, and its reducers. Pass the result wherever reducers go
 * (`createClient({ reducers: app })`, `createSyncServer({ reducers: app })`,
 * `quire serve --reducers app.ts`).
 *
 * @example
 * export const app = defineApp({
 *   version: 2,
 *   migrations: [
 *     'CREATE TABLE todos (id TEXT PRIMARY KEY, title TEXT NOT NULL)',
 *     'ALTER TABLE todos ADD COLUMN due TEXT',
 *   ],
 *   reducers: {
 *     addTodo: (tx, { id, title, due }: { id: string; title: string; due?: string }) => {
 *       tx.exec('INSERT INTO todos (id, title, due) VALUES (?, ?, ?)', [id, title, due ?? null]);
 *     },
 *   },
 * });
 */
export function defineApp<const D extends Record<string, AnyReducerDefinition>>(app: AppDefinition<D>): App<D> {
  if (!Number.isSafeInteger(app.version) || app.version < 1) {
    throw new TypeError(`defineApp: version must be a positive integer — got ${typeof app.version === 'string' ? `the string "${app.version}"` : String(app.version)}`);
  }
  const migrations = app.migrations ?? [];
  if (!Array.isArray(migrations)) throw new TypeError('defineApp: migrations must be an array of SQL strings or functions of tx');
  migrations.forEach((step, i) => {
    if (typeof step === 'function') return;
    if (typeof step === 'string' && step.trim() !== '') return;
    throw new TypeError(`defineApp: migration ${i + 1} must be SQL or a function of tx — got ${typeof step === 'string' ? 'an empty string' : typeof step}`);
  });
  const { definitions } = defineReducers(app.reducers);
  return { definitions, version: app.version, migrations: Object.freeze([...migrations]) };
}

/** The app version of reducers made by {@link defineApp}; 0 for plain `defineReducers`. */
export function appVersionOf(reducers: Reducers): number {
  return (reducers as Partial<App>).version ?? 0;
}

/** The migrations of reducers made by {@link defineApp}; none for plain `defineReducers`. */
export function migrationsOf(reducers: Reducers): readonly Migration[] {
  return (reducers as Partial<App>).migrations ?? [];
}
