import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/**
 * The environment of a user's shell: no npm or pnpm settings inherited from
 * the workspace's script runner, and no workspace bin folders on the PATH (or
 * `npx quire` could find the workspace's CLI instead of the installed one).
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|NODE_OPTIONS$|VITEST|TURBO)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(repoRoot)).join(delimiter);
  // better-sqlite3 compiles from source where its prebuilt binary cannot be
  // downloaded; node-gyp then needs Node's headers (as scripts/bootstrap.mjs).
  if (existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
  return env;
}

/** Packs the published packages with the README's script; returns tarball paths by package name. */
export async function packPackages(): Promise<Record<'core' | 'server' | 'react', string>> {
  const out = mkdtempSync(join(tmpdir(), 'quire-packs-'));
  await run(process.execPath, [join(repoRoot, 'scripts/pack.mjs'), '--out', out], { cwd: repoRoot });
  const find = (name: string) => {
    const file = readdirSync(out).find((f) => f.startsWith(`quire-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`no tarball for @quire/${name} in ${out}`);
    return join(out, file);
  };
  return { core: find('core'), server: find('server'), react: find('react') };
}

/** Runs a command to completion in `cwd` as a user would; rejects with its output when it fails. */
export async function sh(cwd: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env: userEnv(), maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

/**
 * Starts a long-running command (a server) in its own process group, so
 * stopping it also stops what `npx` started (and waits for it to exit);
 * resolves with its output once `ready` matches.
 */
export function startProcess(cwd: string, command: string, args: string[], ready: RegExp): Promise<{ output: string; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, { cwd, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    // Resolves once it has exited: a server still closing its documents writes into their folders.
    const stop = async () => {
      const group = child.pid;
      if (group === undefined) return;
      if (child.exitCode === null && child.signalCode === null) process.kill(-group, 'SIGTERM');
      await exited;
      // npx may exit before the server it started: wait for the whole group (bounded).
      for (let i = 0; i < 200 && groupAlive(group); i++) await new Promise((r) => setTimeout(r, 50));
    };
    let output = '';
    const onData = (data: Buffer) => {
      output += data;
      if (ready.test(output)) resolve({ output, stop });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited ${code} before it was ready:\n${output}`)));
  });
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}
