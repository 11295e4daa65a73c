import { spawn } from 'node:child_process';
import { watchProgress } from './child-progress.js';
import { childReaper } from './child-reaper.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildEvent, ClientProcessConfig, Request } from './chaos-wire.js';

const HELPERS = dirname(fileURLToPath(import.meta.url));
const TESTS = dirname(HELPERS);
const ENTRY = join(HELPERS, 'chaos-client-process.ts');

/** A crash-loop client process (./chaos-client-process.ts), seen from the test. */
export interface ClientProcess {
  readonly config: ClientProcessConfig;
  readonly pid: number;
  readonly exited: boolean;
  /** Everything it printed (stdout and stderr), for failure messages. */
  output(): string;
  request<T>(type: Request['type'], timeoutMs?: number): Promise<T>;
  /** SIGKILLs it (or lets it be, if it already exited) and waits for the exit. */
  kill(): Promise<void>;
}

const live = childReaper();

/** SIGKILLs every client process this module started that is still running. */
export function killAllClientProcesses(): Promise<void> {
  return live.killAll();
}

/**
 * Starts a client process and resolves once its clients are open (stores
 * loaded); fails if it exits first or goes `stallMs` without using CPU (see
 * `watchProgress`). Every event it sends other than replies goes to
 * `onEvent`, in order.
 */
export async function startClientProcess(config: ClientProcessConfig, onEvent: (event: ChildEvent) => void, stallMs = 30_000): Promise<ClientProcess> {
  const args = ['--conditions=quire-source', '--import', 'tsx', ENTRY, JSON.stringify(config)];
  // cwd = tests/, so `--import tsx` resolves from this package's dependencies.
  const child = spawn(process.execPath, args, { cwd: TESTS, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  live.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  let exitedWith: string | undefined;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  // 'close', not 'exit': by then the IPC channel has delivered everything the
  // child sent (a journal covers what it never got to send).
  const exit = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child);
      exitedWith = `client process ${config.name}#${config.incarnation} exited (code ${code}, signal ${signal})`;
      for (const [id, w] of waiting) {
        clearTimeout(w.timer);
        waiting.delete(id);
        w.reject(new Error(`${exitedWith}; output:\n${out}`));
      }
      resolve();
    });
  });
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (event: ChildEvent) => {
    if (event.type === 'ready') return ready();
    if (event.type !== 'reply') return onEvent(event);
    const w = waiting.get(event.requestId);
    if (!w) return;
    waiting.delete(event.requestId);
    clearTimeout(w.timer);
    if (event.ok) w.resolve(event.value);
    else w.reject(new Error(`client process ${config.name}: ${event.error}`));
  });

  let watch: { stop(): void } | undefined;
  try {
    await Promise.race([
      started,
      exit.then(() => {
        throw new Error(`${exitedWith} before it was ready; output:\n${out}`);
      }),
      new Promise<never>((_, reject) => {
        watch = watchProgress(child.pid!, stallMs, () => reject(new Error(`client process ${config.name} stalled: it used no CPU for ${stallMs} ms, before it was ready; output:\n${out}`)));
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    watch?.stop();
  }

  let nextId = 1;
  return {
    config,
    pid: child.pid!,
    get exited() {
      return exitedWith !== undefined;
    },
    output: () => out,
    request<T>(type: Request['type'], requestTimeoutMs = 20_000): Promise<T> {
      if (exitedWith) return Promise.reject(new Error(exitedWith));
      const requestId = nextId++;
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => {
          waiting.delete(requestId);
          reject(new Error(`client process ${config.name}: no answer to ${type} within ${requestTimeoutMs} ms; output:\n${out}`));
        }, requestTimeoutMs);
        waiting.set(requestId, { resolve: resolve as (value: unknown) => void, reject, timer: t });
        child.send({ requestId, type } satisfies Request);
      });
    },
    async kill() {
      if (!exitedWith) child.kill('SIGKILL');
      await exit;
    },
  };
}
