import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// core's layers depend one way: page → vfs → replica → store → engine → client → browser.
// reducers/ and protocol/ sit on the side and may only use errors.ts.
const ORDER = ['page', 'vfs', 'replica', 'store', 'engine', 'client', 'browser'];
const SIDE = new Set(['reducers', 'protocol']);
const root = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.includes('.test') ? [join(dir, e.name)] : [],
  );
}

function layerOf(file: string): string {
  const first = relative(root, file).split('/')[0]!;
  return /\.(ts|js)$/.test(first) ? '(root)' : first;
}

test('imports follow the layer order, and nothing inside imports the package barrel', () => {
  const violations: string[] = [];
  for (const file of sources(root)) {
    const from = layerOf(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = join(dirname(file), spec!);
      const to = layerOf(target);
      const name = relative(root, file);
      const packageBarrel = ['index.ts', 'index.node.ts', 'internal.ts'].includes(relative(root, target).replace(/\.js$/, '.ts'));
      if (packageBarrel && !['index.node.ts'].includes(name)) violations.push(`${name} imports the package barrel`);
      if (to === '(root)' || to === from || from === '(root)') continue;
      if (SIDE.has(from)) {
        violations.push(`${name} (side module ${from}) imports ${to}`);
      } else if (!SIDE.has(to) && ORDER.indexOf(to) > ORDER.indexOf(from)) {
        violations.push(`${name} (${from}) imports the higher layer ${to}`);
      }
    }
  }
  expect(violations).toEqual([]);
});
