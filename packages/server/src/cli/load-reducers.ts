import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QuireError, type Reducers } from '@quire/core';

/**
 * Loads an app's reducers from a TypeScript or JavaScript module: its
 * default export, or an export named `app` or `reducers`, made with
 * `defineApp` or `defineReducers`.
 */
export async function loadReducers(path: string): Promise<Reducers> {
  const file = typeScriptNamed(resolve(path));
  if (!existsSync(file)) throw new QuireError('reducers_not_found', `reducers file ${file} does not exist — pass the module that calls defineReducers()`);
  if (/\.(cts|tsx)$/.test(file)) {
    throw new QuireError('reducers_file_type', `${file}: TypeScript reducers load as ES modules from .ts or .mts files — rename the file to .ts (with import and export, not require)`);
  }
  const mod = (await importModule(file)) as Record<string, unknown>;
  for (const candidate of [mod.default, mod.reducers, mod.app, (mod.default as Record<string, unknown> | undefined)?.reducers]) {
    if (isReducers(candidate)) return candidate;
  }
  throw new QuireError('reducers_not_found', `${file} has no reducers — export the result of defineApp() or defineReducers() as default, or as "app" or "reducers"`);
}

/**
 * `./reducers.js` names `./reducers.ts` when only that exists, as in a
 * TypeScript import (and so in `new URL('./reducers.js', import.meta.url)`
 * written in a .ts file that the TypeScript loader runs).
 */
function typeScriptNamed(file: string): string {
  if (existsSync(file) || !/\.m?js$/.test(file)) return file;
  const ts = file.replace(/js$/, 'ts');
  return existsSync(ts) ? ts : file;
}

function isReducers(value: unknown): value is Reducers {
  return typeof value === 'object' && value !== null && typeof (value as Reducers).definitions === 'object';
}

/**
 * Imports the app's module into this process's module graph, so the app's
 * `@quire/core` is the server's and a `QuireError` thrown by a reducer keeps
 * its code. TypeScript goes through module hooks registered for the whole
 * process (not a private loader such as tsx's `tsImport()`, whose second copy
 * of `@quire/core` would fail the server's `instanceof` checks).
 */
async function importModule(file: string): Promise<unknown> {
  if (!/\.m?ts$/.test(file)) return import(pathToFileURL(file).href);
  await import('./register-typescript.js');
  try {
    return await import(pathToFileURL(file).href);
  } catch (error) {
    // CommonJS habits in a file that runs as an ES module (see typescript-hooks.ts).
    const commonjs = /\b(require|module|exports|__dirname|__filename) is not defined in ES module scope/.exec(String((error as Error)?.message));
    if (!commonjs) throw error;
    throw new QuireError(
      'reducers_file_type',
      `${file}: TypeScript reducers run as ES modules, where ${commonjs[1]} is not defined — use import and export (export default defineReducers({...})) instead of require and module.exports`,
      { cause: error },
    );
  }
}
