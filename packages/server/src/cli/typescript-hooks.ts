import { readFile } from 'node:fs/promises';
import type { LoadHook, ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transform } from 'sucrase';

/**
 * Module hooks that let Node 20 import an app's TypeScript (reducers and
 * what they import): types are stripped by sucrase, line for line, so stack
 * traces point at the right lines without source maps. Registered by
 * ./register-typescript.ts only when a TypeScript file is loaded.
 *
 * `.ts` and `.mts` files load as ES modules whatever the package's "type",
 * so they work in a project made by `npm init -y`.
 */

const TYPESCRIPT = /\.m?ts$/;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    // TypeScript's conventions, which Node does not know: `./notes.js` in a
    // .ts file names ./notes.ts, and bundler-style `./notes` does too.
    const fromTypeScript = context.parentURL !== undefined && TYPESCRIPT.test(new URL(context.parentURL).pathname);
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !fromTypeScript || !/^\.\.?\//.test(specifier)) throw error;
    const candidate = /\.m?js$/.test(specifier) ? specifier.replace(/js$/, 'ts') : /\.[^/]*$/.test(specifier) ? undefined : `${specifier}.ts`;
    if (candidate === undefined) throw error;
    try {
      return await nextResolve(candidate, context);
    } catch {
      throw error;
    }
  }
};

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context);
  const filePath = fileURLToPath(url);
  const { code } = transform(await readFile(filePath, 'utf8'), { transforms: ['typescript'], filePath });
  return { format: 'module', source: code, shortCircuit: true };
};
