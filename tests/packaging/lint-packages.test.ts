import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { packPackages } from './outside-workspace.js';

// publint and Are the Types Wrong over the tarballs npm would publish.
// The packages are ESM-only: `--profile esm-only` skips the CommonJS and
// node10 resolution modes, and fresh-app.test.ts checks that Node (>= 20.19,
// the packages' engines) require()s them all the same.
const run = promisify(execFile);
let tarballs: Record<string, string>;
beforeAll(async () => {
  tarballs = await packPackages();
});
afterAll(() => {
  if (tarballs) rmSync(dirname(tarballs.core!), { recursive: true, force: true });
});

async function lint(bin: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(bin, args, { env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test.each(['core', 'server', 'react'])('publint passes for @quire/%s, warnings and suggestions too', async (name) => {
  const { ok, output } = await lint('publint', ['run', tarballs[name]!, '--strict']);
  expect(output).toContain('All good!');
  expect(ok, output).toBe(true);
});

test.each(['core', 'server', 'react'])('Are the Types Wrong finds no problem in @quire/%s', async (name) => {
  const { ok, output } = await lint('attw', [tarballs[name]!, '--profile', 'esm-only', '--format', 'ascii']);
  expect(ok, output).toBe(true);
  // Every entry point resolved, with types, for Node's ESM and for bundlers.
  expect(output).toMatch(/^node16 \(from ESM\): 🟢/m);
  expect(output).not.toMatch(/^(node16 \(from ESM\)|bundler): (?!🟢)/m);
});
