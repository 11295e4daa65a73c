import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { LoadFnOutput, ModuleFormat, ResolveFnOutput } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { load, resolve } from './typescript-hooks.js';

// Node's own resolution for what these tests need: relative files that exist.
async function nodeResolve(specifier: string, context?: { parentURL?: string | undefined }): Promise<ResolveFnOutput> {
  const url = new URL(specifier, context?.parentURL);
  if (!existsSync(url)) throw Object.assign(new Error(`Cannot find module ${url.pathname}`), { code: 'ERR_MODULE_NOT_FOUND' });
  return { url: url.href };
}
async function nodeLoad(url: string): Promise<LoadFnOutput> {
  return { format: 'module' as ModuleFormat, source: `/* node loaded ${url} */`, shortCircuit: true };
}
// The fields the hooks read; Node's context objects carry a few more.
const context = (parentURL?: string) => ({ conditions: [], ...(parentURL ? { parentURL } : {}) }) as unknown as Parameters<typeof resolve>[1];
const loadContext = { conditions: [], format: undefined } as unknown as Parameters<typeof load>[1];

const dir = mkdtempSync(join(tmpdir(), 'quire-ts-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'lib'));
for (const file of ['reducers.ts', 'sql.ts', 'lib/index.ts', 'plain.js']) writeFileSync(join(dir, file), '');
const url = (file: string) => pathToFileURL(join(dir, file)).href;

describe('TypeScript module hooks', () => {
  test("a .ts file's `./sql.js` and `./sql` name ./sql.ts, as in TypeScript", async () => {
    expect((await resolve('./sql.js', context(url('reducers.ts')), nodeResolve)).url).toBe(url('sql.ts'));
    expect((await resolve('./sql', context(url('reducers.ts')), nodeResolve)).url).toBe(url('sql.ts'));
    expect((await resolve('./plain.js', context(url('reducers.ts')), nodeResolve)).url).toBe(url('plain.js'));
  });

  test('what does not exist stays not found, with Node’s own error', async () => {
    await expect(resolve('./missing.js', context(url('reducers.ts')), nodeResolve)).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND', message: expect.stringContaining('missing.js') });
    // JavaScript importers keep Node's rules.
    await expect(resolve('./sql.js', context(url('plain.js')), nodeResolve)).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  test('a .ts file loads as an ES module with its types stripped line for line', async () => {
    const source = [
      "import { defineReducers, type Reducers } from '@quire/core';",
      "import type { Row } from './sql.js';",
      'enum Kind { Note, Task }',
      'export default defineReducers({',
      '  add: (tx, { id }: { id: string }) => tx.exec("INSERT INTO t VALUES (?, ?)", [id, Kind.Task] as const),',
      '}) satisfies Reducers<never>;',
    ].join('\n');
    writeFileSync(join(dir, 'typed.ts'), source);
    const out = await load(url('typed.ts'), loadContext, nodeLoad);
    expect(out.format).toBe('module');
    const code = String(out.source);
    expect(code.split('\n')).toHaveLength(source.split('\n').length);
    expect(code).not.toMatch(/\btype\b|: \{ id: string \}|as const|satisfies|Row/);
    expect(code).toContain("import { defineReducers, } from '@quire/core';");
    expect(code.split('\n')[4]).toContain('add: (tx, { id }) =>');
  });

  test('JavaScript is left to Node', async () => {
    const out = await load(url('plain.js'), loadContext, nodeLoad);
    expect(out.source).toBe(`/* node loaded ${url('plain.js')} */`);
  });
});
