import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/todo-demo, found from this file so the suite runs from any cwd. */
export const DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../apps/todo-demo');
const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NEXT_VERSION_ENTRY = join(E2E_DIR, 'src', 'harness', 'next-version-demo.ts');

export interface DemoServerOptions {
  /** Where the lists are stored; a folder given here is kept by `stop()`. Default: a fresh temporary one, removed by `stop()`. */
  dataDir?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Run the next app version of the demo (next-version-demo.ts), as a deploy of new code would. */
  nextVersion?: boolean;
  /** How long to wait for the server to listen. Default 30 s. */
  timeoutMs?: number;
}

/** A running todo demo server (a child process) on its own temporary data folder. */
export interface DemoServer {
  /** `http://127.0.0.1:<port>/` as the server printed it. */
  readonly url: string;
  readonly port: number;
  /** Everything it printed so far, for failure messages. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data folder (unless the caller gave it). */
  stop(): Promise<void>;
}

const URL_LINE = /^todo demo: (http:\/\/\S+\/)\s*$/m;
const live = new Set<ChildProcess>();

// The server runs in its own process group (pnpm → sh → node): signal the whole
// group, and never leave one behind even if the test runner dies first.
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

/**
 * Starts `pnpm -C apps/todo-demo start --port 0 --host 127.0.0.1 --data <tmp>`
 * (or, with `nextVersion`, next-version-demo.ts with the same flags) and
 * resolves with the URL it prints. The demo must be built first.
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const { timeoutMs = 30_000 } = options;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'quire-e2e-'));
  const flags = ['--port', String(options.port ?? 0), '--host', '127.0.0.1', '--data', dataDir];
  // The next version runs from TypeScript (tsx resolves from this package) over the built app and packages.
  const child = options.nextVersion
    ? spawn(process.execPath, ['--import', 'tsx', NEXT_VERSION_ENTRY, ...flags], { cwd: E2E_DIR, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('pnpm', ['-C', DEMO_DIR, '--silent', 'start', ...flags], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      live.delete(child);
      resolveExit();
    });
  });

  const stop = async (): Promise<void> => {
    if (live.has(child)) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      // pnpm may exit before its node child; make sure the group is gone.
      killGroup(child, 'SIGKILL');
    }
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  const url = await new Promise<string>((resolveUrl, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      void stop().then(() => reject(new Error(`todo demo server ${why}; output:\n${out}`)));
    };
    const timer = setTimeout(() => fail(`printed no "todo demo: <url>" line within ${timeoutMs} ms`), timeoutMs);
    const onData = () => {
      const match = URL_LINE.exec(out);
      if (!match || settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolveUrl(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('error', (error) => fail(`could not start (${error.message})`));
    void exited.then(() => fail(`exited with code ${child.exitCode} before listening (is the demo built? pnpm turbo run build --filter @quire/todo-demo...)`));
  });
  return { url, port: Number(new URL(url).port), output: () => out, stop };
}
