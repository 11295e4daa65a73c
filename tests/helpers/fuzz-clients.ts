import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzClientsConfig, FuzzClientsEvent, FuzzClientsResult, LsnUpdate } from './fuzz-wire.js';

const HELPERS = dirname(fileURLToPath(import.meta.url));
const TESTS = dirname(HELPERS);
const ENTRY = join(HELPERS, 'fuzz-client-process.ts');

/**
 * Runs the fuzz episodes in a child process (./fuzz-client-process.ts)
 * against the server in this one, telling it the server's LSN as it moves.
 * Rejects with the first episode that went wrong.
 */
export function runFuzzClients(config: FuzzClientsConfig, lsn: () => number): Promise<FuzzClientsResult> {
  // cwd = tests/, so `--import tsx` resolves from this package's dependencies.
  const child = spawn(process.execPath, ['--conditions=quire-source', '--import', 'tsx', ENTRY, JSON.stringify(config)], {
    cwd: TESTS,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let last = -1;
  const ticker = setInterval(() => {
    const now = lsn();
    if (now !== last && child.connected) child.send({ type: 'lsn', lsn: now } satisfies LsnUpdate, () => {});
    last = now;
  }, 10);
  return new Promise<FuzzClientsResult>((resolve, reject) => {
    let event: FuzzClientsEvent | undefined;
    child.on('message', (message: FuzzClientsEvent) => (event = message));
    child.once('close', (code, signal) => {
      clearInterval(ticker);
      process.off('exit', kill);
      if (event?.type === 'done') return resolve(event.result);
      reject(new Error(event?.type === 'failed' ? event.message : `the fuzz client process exited (code ${code}, signal ${signal}) without a result; output:\n${output}`));
    });
  });
}
