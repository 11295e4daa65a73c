import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';

// Runs the README's quick start as written: the CLI serves reducers.ts, and
// clients.ts connects two clients that must converge, on every run.
const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'quire-quickstart-'));
let server: ChildProcess | undefined;
afterAll(async () => {
  // npx runs the CLI as its own child: stop the whole process group, or the
  // server outlives the test.
  if (server?.pid !== undefined && server.exitCode === null) {
    const group = server.pid;
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    process.kill(-group, 'SIGTERM');
    await exited;
    // npx may exit before the server it started, which still closes its
    // documents (writing into dataDir): wait for the whole group (bounded).
    for (let i = 0; i < 200 && groupAlive(group); i++) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: here, env: process.env, detached: until !== undefined });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (until && until.test(out)) resolve(out);
    });
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}`))));
    if (until) server = child;
  });
}

test('two clients converge through the CLI server, and again on a second run over the same data', async () => {
  const banner = await run('npx', ['quire', 'serve', '--reducers', './reducers.ts', '--data', dataDir, '--port', '0'], /listening on (ws:\/\/\S+)/);
  const url = /listening on (ws:\/\/\S+)/.exec(banner)![1]!;
  expect(banner).toMatch(/3 reducers \(createTable, addNote, like\)/);
  for (let runs = 0; runs < 2; runs++) {
    const out = await run('node', ['--import', '@quire/server/typescript', 'clients.ts', url]);
    expect(out).toContain("alice sees [ { text: 'Hello from Alice', likes: 2 } ]");
    expect(out).toContain("bob   sees [ { text: 'Hello from Alice', likes: 2 } ]");
  }
});

test("the README's data folder is ignored by git", () => {
  expect(execFileSync('git', ['check-ignore', 'data/documents'], { cwd: here, encoding: 'utf8' }).trim()).toBe('data/documents');
});

test('the README quotes this example word for word', () => {
  const readme = readFileSync(join(here, '../../README.md'), 'utf8');
  for (const file of ['reducers.ts', 'clients.ts']) {
    const source = readFileSync(join(here, file), 'utf8').replace(/^import .*\n/gm, '');
    expect(readme, `README must contain ${file}`).toContain(source.trim());
  }
});

test('with the server down, the clients say so instead of waiting in silence', async () => {
  // Port 9 (discard): nothing listens on it here.
  const child = spawn('node', ['--import', '@quire/server/typescript', 'clients.ts', 'ws://127.0.0.1:9'], { cwd: here, env: process.env });
  try {
    const said = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) resolve(out);
      });
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('exit', (code) => reject(new Error(`clients.ts exited ${code} without a word:\n${out}`)));
    });
    expect(said).toMatch(/^alice: could not connect to ws:\/\/127\.0\.0\.1:9\/?: connection refused/);
  } finally {
    child.kill();
  }
});
