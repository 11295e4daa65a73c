import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { packPackages, repoRoot, sh, startProcess } from './outside-workspace.js';

// The README's "Use it in your own app", done outside this repository: pack
// the packages, make a project with `npm init -y` (CommonJS),
// install the tarballs with plain npm from the registry, and run the app.
const here = new URL('.', import.meta.url);
const app = mkdtempSync(join(tmpdir(), 'quire-fresh-app-'));
const stops: Array<() => Promise<void>> = [];
let installSeconds = 0;
let packs: string | undefined;

beforeAll(async () => {
  const started = Date.now();
  const tarballs = await packPackages();
  packs = dirname(tarballs.core);
  await sh(app, 'npm', ['init', '-y']);
  await sh(app, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballs.core, tarballs.server]);
  installSeconds = (Date.now() - started) / 1000;
  cpSync(new URL('app', here), app, { recursive: true });
  cpSync(new URL('fixtures', here), app, { recursive: true });
});

afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  console.log(`packaging: packed and installed in ${installSeconds.toFixed(0)} s`);
  rmSync(app, { recursive: true, force: true });
  if (packs) rmSync(packs, { recursive: true, force: true });
});

async function serve(reducers: string, dataDir: string): Promise<{ url: string; banner: string }> {
  const server = await startProcess(app, 'npx', ['quire', 'serve', '--reducers', reducers, '--data', dataDir, '--port', '0'], /listening on ws:\/\/\S+/);
  stops.push(server.stop);
  return { url: /listening on (ws:\/\/\S+)/.exec(server.output)![1]!, banner: server.output };
}

describe('an app outside the workspace, installed from the packed tarballs', () => {
  test('the project is CommonJS and the install has no TypeScript runner, no esbuild and no test files', () => {
    // npm 11 writes "type": "commonjs"; older npm leaves "type" out, which means the same.
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).type ?? 'commonjs').toBe('commonjs');
    for (const name of ['tsx', 'esbuild', 'lru-cache']) expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    const shipped = readdirSync(join(app, 'node_modules/@quire'), { recursive: true, encoding: 'utf8' });
    expect(shipped.filter((file) => /\.(test|test-d|contract)\./.test(file))).toEqual([]);
    for (const name of ['core', 'server']) expect(readFileSync(join(app, 'node_modules/@quire', name, 'LICENSE'), 'utf8')).toContain('MIT License');
  });

  test('npx quire serves reducers.ts and two clients converge, twice in a row', async () => {
    const { url, banner } = await serve('./reducers.ts', './data');
    expect(banner).toContain('3 reducers (createTable, addCard, vote)');
    for (let run = 0; run < 2; run++) {
      const out = await sh(app, 'node', ['--import', '@quire/server/typescript', 'client.mjs', url]);
      expect(out).toContain('alice sees "Ship it" with 2 votes');
      expect(out).toContain('bob sees "Ship it" with 2 votes');
    }
  });

  test('TypeScript reducers can import their own .ts files (./x.js and ./x) and use enums', async () => {
    const { url, banner } = await serve('./multi-file/reducers.ts', './multi-file-data');
    expect(banner).toContain('2 reducers (createTable, addUrgent)');
    const out = await sh(app, 'node', ['--import', '@quire/server/typescript', 'multi-file/client.mjs', url, randomUUID()]);
    expect(out).toContain('[{"title":"Fix the build","priority":3}]');
  });

  test('TypeScript reducers written as CommonJS fail with what to change', async () => {
    const failure = await sh(app, 'npx', ['quire', 'serve', '--reducers', './commonjs-reducers.ts', '--port', '0']).catch((error: Error) => error.message);
    expect(failure).toContain('quire: [reducers_file_type]');
    expect(failure).toContain('commonjs-reducers.ts: TypeScript reducers run as ES modules, where require is not defined — use import and export');
  });

  test('a CommonJS script can require() the packages', async () => {
    expect(await sh(app, 'node', ['require-check.cjs'])).toBe('function function function function\n');
  });
});

test('the README shows this app word for word', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it in your own app'));
  expect(section, 'README needs a "Use it in your own app" section').not.toBe('');
  for (const file of ['reducers.ts', 'client.mjs']) {
    const source = readFileSync(new URL(`app/${file}`, here), 'utf8');
    expect(section, `README must contain ${relative(repoRoot, new URL(`app/${file}`, here).pathname)}`).toContain(source.trim());
  }
  for (const command of ['npm run pack', 'npm init -y', 'npx quire serve --reducers ./reducers.ts', 'node --import @quire/server/typescript client.mjs']) {
    expect(section).toContain(command);
  }
});
