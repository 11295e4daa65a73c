import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QuireError, type Reducers } from '@quire/core';

/**
 * Loads an app's reducers from a TypeScript or JavaScript module: its
 * default export, or an export named `reducers`, made with `defineReducers`.
 */
export async function loadReducers(path: string): Promise<Reducers> {
  const file = resolve(path);
  if (!existsSync(file)) throw new QuireError('reducers_not_found', `reducers file ${file} does not exist — pass the module that calls defineReducers()`);
  const mod = (await importModule(file)) as Record<string, unknown>;
  for (const candidate of [mod.default, mod.reducers, (mod.default as Record<string, unknown> | undefined)?.reducers]) {
    if (isReducers(candidate)) return candidate;
  }
  throw new QuireError('reducers_not_found', `${file} has no reducers — export the result of defineReducers() as default or as "reducers"`);
}

function isReducers(value: unknown): value is Reducers {
  return typeof value === 'object' && value !== null && typeof (value as Reducers).definitions === 'object';
}

/**
 * Imports the app's module so it shares this process's module graph. Not
 * tsx's `tsImport()`: that loads the file and everything it imports under a
 * private namespace, so the app's `@quire/core` is a second copy and a
 * `QuireError` thrown by a reducer fails the server's `instanceof` check (its
 * code is reported as `reducer_error`). TypeScript goes through tsx's global
 * loader instead.
 */
async function importModule(file: string): Promise<unknown> {
  if (/\.[cm]?tsx?$/.test(file)) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return import(pathToFileURL(file).href);
}
