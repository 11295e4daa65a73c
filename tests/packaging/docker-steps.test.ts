import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { packPackages, repoRoot, sh, userEnv } from './outside-workspace.js';

// There is no Docker engine in CI (nor on these machines): this checks the
// Dockerfile's instructions, and runs its build and run steps outside
// Docker, as written: the same pack, the same install script, the same
// ENTRYPOINT and CMD (with /app and /data mapped to scratch folders, and
// 127.0.0.1 for 0.0.0.0), the same HEALTHCHECK, and a SIGTERM. It does not
// build the image.
const scratch = mkdtempSync(join(tmpdir(), 'quire-docker-steps-'));
const app = join(scratch, 'app');
const data = join(scratch, 'data');
let packs: string | undefined;

/** The Dockerfile's instructions of the final stage: keyword and arguments, continuation lines joined. */
function instructions(): Array<{ keyword: string; args: string }> {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = text.split('\n').filter((line) => line.trim() && !line.trimStart().startsWith('#'));
  return lines.map((line) => {
    const [keyword, ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });
}

const all = instructions();
const finalStage = all.slice(all.map((i) => i.keyword).lastIndexOf('FROM'));
const one = (keyword: string) => finalStage.filter((i) => i.keyword === keyword).at(-1)?.args ?? '';

beforeAll(async () => {
  const tarballs = await packPackages();
  packs = dirname(tarballs.core);
  // The build stage's step, as written in the Dockerfile.
  expect(all.filter((i) => i.keyword === 'RUN').map((i) => i.args)).toContain('sh docker/install-server.sh /packs /app');
  await sh(repoRoot, 'sh', [join(repoRoot, 'docker/install-server.sh'), packs, app]);
  // What a user mounts at /app/reducers.
  cpSync(new URL('app', import.meta.url), join(app, 'reducers'), { recursive: true });
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (packs) rmSync(packs, { recursive: true, force: true });
});

test('the image runs as a non-root user, keeps documents on a volume, checks /healthz, and execs node itself', () => {
  expect(one('USER')).toBe('node');
  expect(one('VOLUME')).toBe('/data');
  expect(one('HEALTHCHECK')).toMatch(/CMD \["node", "\/app\/healthcheck.mjs"\]$/);
  // Exec form (a JSON array): node is PID 1, so `docker stop`'s SIGTERM reaches it, not a shell.
  const entrypoint = JSON.parse(one('ENTRYPOINT')) as string[];
  expect(entrypoint).toEqual(['node', '/app/node_modules/@quire/server/bin/quire.js']);
  const cmd = JSON.parse(one('CMD')) as string[];
  expect(cmd.slice(0, 1)).toEqual(['serve']);
  expect(cmd.join(' ')).toContain('--host 0.0.0.0');
  expect(cmd.join(' ')).toContain('--data /data');
  // The drain deadline fits in Docker's 10 s between SIGTERM and SIGKILL.
  expect(Number(cmd[cmd.indexOf('--drain-timeout-ms') + 1])).toBeLessThan(10_000);
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  for (const pattern of ['**/node_modules', '**/dist', '.git']) expect(ignored).toContain(pattern);
});

test("the image's steps outside Docker: the installed server serves mounted reducers, passes its HEALTHCHECK, and drains on SIGTERM", async () => {
  const [node, cli] = JSON.parse(one('ENTRYPOINT')) as string[];
  const mapPath = (arg: string) => arg.replace(/^\/app(?=\/|$)/, app).replace(/^\/data$/, data);
  // Tests bind 127.0.0.1 and a free port; the rest is the image's CMD.
  const args = (JSON.parse(one('CMD')) as string[]).map(mapPath).map((arg, i, list) => (list[i - 1] === '--host' ? '127.0.0.1' : list[i - 1] === '--port' ? '0' : arg));
  const child = spawn(node!, [mapPath(cli!), ...args], { cwd: app, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  try {
    await expect.poll(() => /listening on (ws:\/\/\S+)/.exec(output)?.[1], { timeout: 30_000 }).toBeTruthy();
    const url = /listening on (ws:\/\/\S+)/.exec(output)![1]!;
    expect(output).toContain('3 reducers (createTable, addCard, vote)');
    const health = url.replace(/^ws/, 'http') + '/healthz';
    const healthcheck = () => spawnExit(process.execPath, [join(repoRoot, 'docker/healthcheck.mjs')], { ...userEnv(), QUIRE_HEALTH_URL: health });
    expect(await healthcheck()).toBe(0);

    const out = await sh(join(app, 'reducers'), 'node', ['--import', '@quire/server/typescript', 'client.mjs', url]);
    expect(out).toContain('bob sees "Ship it" with 2 votes');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/drained in \d+ ms: 1 document\(s\) closed/);
    expect(await healthcheck()).toBe(1);
  } finally {
    child.kill('SIGKILL');
  }
});

function spawnExit(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => spawn(command, args, { env, stdio: 'ignore' }).once('exit', (code) => resolve(code)));
}
