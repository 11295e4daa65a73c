import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { FileCommitLog, createSyncServer } from '@quire/server';
import { childReaper } from '../helpers/child-reaper.js';
import { notesV1 } from '../helpers/notes-app.js';

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers');
const TESTS = dirname(HELPERS);
const V2_APP = join(HELPERS, 'notes-app-v2.ts');
const DOCUMENTS = 1000;

const live = childReaper();
afterAll(() => live.killAll());

interface Run {
  /** Resolves with the exit code or signal. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr has a progress line "n/total" with some but not all done. */
  partway(): Promise<number>;
  kill(signal: NodeJS.Signals): void;
}

/** `quire migrate` as a real child process (from the TypeScript sources). */
function runMigrate(dataDir: string): Run {
  const args = ['--conditions=quire-source', '--import', 'tsx', join(HELPERS, 'quire-cli-entry.ts'), 'migrate', '--reducers', V2_APP, dataDir];
  const child = spawn(process.execPath, args, { cwd: TESTS, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  const waiting: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const check of waiting) check();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    exit,
    stdout: () => out,
    stderr: () => err,
    partway: () =>
      new Promise<number>((resolve, reject) => {
        const check = () => {
          const done = [...err.matchAll(/^(\d+)\/(\d+) /gm)].map((m) => Number(m[1])).find((n) => n > 0 && n < DOCUMENTS);
          if (done !== undefined) resolve(done);
        };
        waiting.push(check);
        check();
        void exit.then(() => reject(new Error(`quire migrate exited before it was partway; stderr:\n${err}\nstdout:\n${out}`)));
      }),
    kill: (signal) => void child.kill(signal),
  };
}

/** Counts of the summary lines ("migrated 12" and so on). */
function summary(stdout: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [, name, n] of stdout.matchAll(/^ {2}(migrated|already current|failed|skipped|not visited) +(\d+)/gm)) out[name!] = Number(n);
  return out;
}

test(`quire migrate over ${DOCUMENTS} documents, interrupted (Ctrl-C) and SIGKILLed partway, then run again: every document ends at the new version, migrated exactly once`, async () => {
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'quire-migrate-cli-'));
  const dataDir = join(root, 'data');
  try {
    // One tiny v1 document (schema version 2, LSN 1), copied: a closed document's folder is all of it.
    const server = createSyncServer({ reducers: notesV1, dataDir: root });
    await server.snapshot('template');
    await server.close();
    mkdirSync(dataDir);
    for (let i = 0; i < DOCUMENTS; i++) cpSync(join(root, 'template'), join(dataDir, `doc-${String(i).padStart(4, '0')}`), { recursive: true });
    const made = Date.now();

    // Ctrl-C: it finishes the document it is on, says how many it did not visit, exits 130.
    const interrupted = runMigrate(dataDir);
    await interrupted.partway();
    interrupted.kill('SIGINT');
    expect(await interrupted.exit).toEqual({ code: 130, signal: null });
    const first = summary(interrupted.stdout());
    expect(first['not visited']).toBeGreaterThan(0);
    expect(first.migrated).toBe(DOCUMENTS - first['not visited']!);
    expect(interrupted.stdout()).toContain('run the same command again to finish');

    // SIGKILL: no summary, possibly in the middle of a document's migration.
    const killed = runMigrate(dataDir);
    const seen = await killed.partway();
    killed.kill('SIGKILL');
    expect((await killed.exit).signal).toBe('SIGKILL');

    const last = runMigrate(dataDir);
    expect(await last.exit, last.stderr()).toEqual({ code: 0, signal: null });
    const final = summary(last.stdout());
    expect(final.failed).toBe(0);
    expect(final.skipped).toBe(0);
    expect(final.migrated! + final['already current']!).toBe(DOCUMENTS);
    // Every document the killed run reported done (the interrupted run's among them) is not migrated again.
    expect(final['already current']).toBeGreaterThanOrEqual(seen);
    expect(final.migrated).toBeGreaterThan(0);
    const ran = Date.now();

    // Every document: schema version 3, the v2 step's row exactly once, the new column, and the migration as LSN 2 in its log.
    const docs = readdirSync(dataDir);
    expect(docs).toHaveLength(DOCUMENTS);
    const wrong: string[] = [];
    for (const docId of docs) {
      const db = new Database(join(dataDir, docId, 'document.sqlite'), { readonly: true });
      try {
        const version = db.prepare('SELECT max(version) FROM __quire_schema').pluck().get();
        const runs = db.prepare('SELECT count(*) FROM migration_runs').pluck().get();
        const done = db.prepare("SELECT count(*) FROM pragma_table_info('notes') WHERE name = 'done'").pluck().get();
        if (version !== 3 || runs !== 1 || done !== 1) wrong.push(`${docId}: version ${version}, runs ${runs}, done column ${done}`);
      } finally {
        db.close();
      }
      const log = new FileCommitLog(join(dataDir, docId));
      const { last: lastCommit } = await log.open();
      await log.close();
      if (lastCommit?.lsn !== 2) wrong.push(`${docId}: log ends at LSN ${lastCommit?.lsn}`);
    }
    expect(wrong).toEqual([]);
    // Measured on the 2-core machine: about 1 s to copy the documents, 3 runs of ~2-4 s each, ~1 s to check.
    console.info(`quire migrate resume: ${DOCUMENTS} documents made in ${made - started} ms, three runs took ${ran - made} ms, checked in ${Date.now() - ran} ms`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
