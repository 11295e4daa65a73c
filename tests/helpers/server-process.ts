import { spawn } from 'node:child_process';
import { childReaper } from './child-reaper.js';
import { watchProgress } from './child-progress.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELPERS = dirname(fileURLToPath(import.meta.url));
const TESTS = dirname(HELPERS);
/** Runs the CLI from the server's TypeScript sources (packages/server/bin needs a build). */
const ENTRY = join(HELPERS, 'quire-cli-entry.ts');

export interface ServerProcessOptions {
  /** Module exporting the reducers (default export or `reducers`). */
  reducers: string;
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** More `quire serve` flags (e.g. --s3-bucket …). */
  args?: string[];
  /** More environment variables (e.g. AWS credentials). */
  env?: Record<string, string>;
}

/** A `quire serve` child process. */
export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  readonly exited: boolean;
  /** Resolves when the process exits, without signalling it. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = childReaper();

/** Kills every server process this module started that is still running (call in afterEach/afterAll). */
export function killAllServerProcesses(): Promise<void> {
  return live.killAll();
}

/**
 * Starts `quire serve` as a child process and resolves once it prints its
 * URL; fails if it exits first, or goes `stallMs` without printing or using
 * CPU (see `watchProgress`). On a fixed port, retries while the port is still
 * held by a process that has just died (50 times at most).
 */
export async function startServerProcess(options: ServerProcessOptions, stallMs = 20_000): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(options, stallMs);
    } catch (error) {
      const busy = /EADDRINUSE/.test(String(error));
      if (!busy || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function spawnOnce(options: ServerProcessOptions, stallMs: number): Promise<ServerProcess> {
  const args = ['--conditions=quire-source', '--import', 'tsx', ENTRY, 'serve'];
  args.push('--reducers', options.reducers, '--data', options.dataDir, '--port', String(options.port ?? 0), '--host', '127.0.0.1', ...(options.args ?? []));
  // cwd = tests/, so `--import tsx` resolves from this package's dependencies.
  const child = spawn(process.execPath, args, { cwd: TESTS, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  live.add(child);
  let out = '';
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      resolve({ code, signal });
    });
  });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));

  return new Promise<ServerProcess>((resolve, reject) => {
    const watch = watchProgress(child.pid!, stallMs, () => {
      child.kill('SIGKILL');
      reject(new Error(`quire serve stalled: it printed nothing and used no CPU for ${stallMs} ms, before printing its URL; output:\n${out}`));
    });
    const onData = () => {
      watch.progressed();
      const match = /listening on (ws:\/\/[^\s]+)/.exec(out);
      if (!match) return;
      watch.stop();
      child.stdout!.off('data', onData);
      const url = match[1]!;
      resolve({
        pid: child.pid!,
        url,
        port: Number(new URL(url).port),
        output: () => out,
        exit,
        get exited() {
          return exited;
        },
        async kill(signal = 'SIGKILL') {
          if (!exited) child.kill(signal);
          return exit;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exit.then(({ code, signal }) => {
      watch.stop();
      reject(new Error(`quire serve exited (code ${code}, signal ${signal}) before listening; output:\n${out}`));
    });
  });
}
