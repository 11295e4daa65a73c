import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A request to a child process over IPC; see `serveRequests` in ./serve.ts for the other end. */
export interface Request {
  id: number;
  type: string;
  args?: unknown;
}
export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** A child process of the bench: a server or a fleet of clients. */
export interface Child {
  readonly name: string;
  /** The port it printed (0 for processes that serve nothing). */
  readonly port: number;
  readonly pid: number;
  request<T = unknown>(type: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks it to stop (SIGTERM), then kills it if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

// Every child and temp dir this process made, so that an exit, a signal or a
// failed scenario never leaves a server behind.
const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** A temp dir removed when the bench exits (children may die before they can clean up). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/**
 * The soft and hard limits on open files a child started with
 * `fdLimit` gets (`ulimit -Sn` / `-Hn` of a shell, as Node cannot read or
 * set them itself).
 */
export function openFileLimits(): { soft: number; hard: number } {
  const read = (flag: string) => {
    const out = execFileSync('/bin/sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

export interface ChildOptions {
  exposeGc?: boolean;
  /**
   * Caps V8's young generation at 1 MB a semi-space. For memory readings:
   * V8 grows it up to 16 MB a semi-space under a burst of allocation
   * (start-up, seeding) and shrinks it some seconds later, so two RSS
   * readings could differ by 30 MB that no live object accounts for.
   */
  smallNewSpace?: boolean;
  startTimeoutMs?: number;
  fdLimit?: number;
}

/**
 * Starts `bench/processes/<script>` under tsx and resolves once it printed
 * `port <n>` (servers) or `ready` (client fleets). `exposeGc` lets it run a
 * full GC before reporting its RSS. `fdLimit` raises the child's soft limit
 * on open files to at least that many (through `ulimit -n` in a shell that
 * then execs Node), and fails with what to raise when the hard limit is lower.
 */
export async function startChild(script: string, args: string[] = [], options: ChildOptions = {}): Promise<Child> {
  const name = `${script}${args.length ? ` ${args.join(' ')}` : ''}`;
  // BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the children (NODE_OPTIONS refuses --cpu-prof).
  const extra = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const nodeArgs = [...extra, ...(options.exposeGc ? ['--expose-gc'] : []), ...(options.smallNewSpace ? ['--max-semi-space-size=1'] : []), '--import', 'tsx', join(benchDir, 'processes', script), ...args];
  const [command, commandArgs] = options.fdLimit === undefined ? [process.execPath, nodeArgs] : withFdLimit(options.fdLimit, nodeArgs);
  const child = spawn(command, commandArgs, {
    cwd: benchDir,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  live.add(child);
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let exited: Error | undefined;
  const failAll = (error: Error) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(error);
    }
  };
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exited = new Error(`${name} exited (code ${code}, signal ${signal})`);
      failAll(exited);
      resolve();
    });
  });
  child.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(new Error(`${name}: ${reply.error}`));
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${options.startTimeoutMs ?? 30_000} ms`)), options.startTimeoutMs ?? 30_000);
    let started = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!started) {
        const m = /^port (\d+)$/.exec(line) ?? (line === 'ready' ? ['', '0'] : null);
        if (m) {
          started = true;
          clearTimeout(timer);
          resolve(Number(m[1]));
          return;
        }
      }
      process.stdout.write(`[${script}] ${line}\n`);
    });
    void exitedPromise.then(() => {
      clearTimeout(timer);
      reject(exited);
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });

  return {
    name,
    port,
    pid: child.pid!,
    request<T>(type: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: no answer to ${type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
        child.send({ id, type, args } satisfies Request);
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** `node args` run by a shell that first raises its open-file limit to `needed` (exec keeps the pid). */
function withFdLimit(needed: number, nodeArgs: string[]): [string, string[]] {
  const { soft, hard } = openFileLimits();
  if (hard < needed) {
    throw new Error(
      `this scenario needs ${needed} open files in one process, but the hard limit (ulimit -Hn) is ${hard} — raise it (as root: ulimit -Hn ${needed}, or a nofile line in /etc/security/limits.conf, or LimitNOFILE= for a systemd service), then run the bench again`,
    );
  }
  if (soft >= needed) return [process.execPath, nodeArgs];
  return ['/bin/sh', ['-c', `ulimit -n ${needed} && exec "$0" "$@"`, process.execPath, ...nodeArgs]];
}
