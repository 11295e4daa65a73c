import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childReaper } from './child-reaper.js';

const HELPERS = dirname(fileURLToPath(import.meta.url));
const TESTS = dirname(HELPERS);
const live = childReaper();

/** Runs a `quire` command (not `serve`) as a child process from the TypeScript sources, to its exit. */
export function runQuire(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=quire-source', '--import', 'tsx', join(HELPERS, 'quire-cli-entry.ts'), ...args], { cwd: TESTS, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      live.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}
