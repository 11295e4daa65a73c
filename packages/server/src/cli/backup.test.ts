import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { defineReducers } from '@quire/core';
import { createSyncServer } from '../sync-server.js';
import { silentLogger } from '../../test/memory-logger.js';
import { main } from './main.js';
import { captureOutput } from '../../test/capture-output.js';

const reducers = defineReducers({
  add: (tx, { n }: { n: number }) => {
    tx.exec('CREATE TABLE IF NOT EXISTS items (n INTEGER)');
    tx.exec('INSERT INTO items VALUES (?)', [n]);
  },
});

const dirs: string[] = [];
function scratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `quire-${name}-`));
  dirs.push(dir);
  return dir;
}

const capture = captureOutput;

afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A data directory with documents alpha (LSN 5) and beta (LSN 2), closed. */
async function dataWithDocuments(): Promise<string> {
  const dataDir = scratch('backup-data');
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger });
  for (let n = 1; n <= 5; n++) await server.mutate('alpha', 'add', { n });
  for (let n = 1; n <= 2; n++) await server.mutate('beta', 'add', { n });
  await server.close();
  return dataDir;
}

/** Every file under `dir` with its size: what a refused command must leave as it was. */
function tree(dir: string): Record<string, number> {
  if (!existsSync(dir)) return {};
  const out: Record<string, number> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) out[name] = statSync(join(dir, name)).size;
  return out;
}

test('backup while a server has the documents open, restore into a new directory: a server there serves each at the LSN the backup printed', async () => {
  const dataDir = scratch('backup-live');
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger });
  const dest = join(scratch('backup-dest'), 'b1');
  const restored = join(scratch('restore'), 'data');
  try {
    for (let n = 1; n <= 5; n++) await server.mutate('alpha', 'add', { n });
    await server.mutate('beta', 'add', { n: 1 });
    const io = capture();
    expect(await main(['backup', dataDir, dest])).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^alpha: LSN 5 \\(checkpoint at \\d+, log \\d+ bytes\\)\nbeta: LSN 1 \\(checkpoint at \\d+, log \\d+ bytes\\)\nbacked up 2 document\\(s\\) to ${dest}\n$`));
    // The server went on meanwhile; the backup holds what it had.
    await server.mutate('alpha', 'add', { n: 6 });
    expect(JSON.parse(readFileSync(join(dest, 'quire-backup.json'), 'utf8'))).toMatchObject({ format: 1, source: dataDir, documents: [{ docId: 'alpha', lsn: 5 }, { docId: 'beta', lsn: 1 }] });
    // Only the logs (and client owners): the database files are caches.
    expect(readdirSync(join(dest, 'alpha')).sort()).toEqual(['checkpoints', 'log']);
  } finally {
    await server.close();
  }
  const io = capture();
  expect(await main(['restore', dest, restored])).toBe(0);
  expect(io.out()).toContain(`alpha: restored at LSN 5\nbeta: restored at LSN 1\nrestored 2 document(s) from ${dest}`);
  const again = createSyncServer({ reducers, dataDir: restored, logger: silentLogger });
  try {
    const alpha = await again.snapshot('alpha');
    expect(alpha.lsn).toBe(5);
    expect((await again.mutate('alpha', 'add', { n: 7 })).lsn).toBe(6);
    expect((await again.snapshot('beta')).lsn).toBe(1);
  } finally {
    await again.close();
  }
});

test('a segment copied mid-append ends in a torn record: the backup cuts it off (and reports the LSN before it), and leaves the source as it was', async () => {
  const dataDir = await dataWithDocuments();
  const segments = join(dataDir, 'alpha', 'log');
  const last = join(segments, readdirSync(segments).sort().at(-1)!);
  // Half of a record's header: what a copy taken during an append can end with.
  appendFileSync(last, Buffer.from([0x51, 0x43, 0x4c, 0x31, 0, 0]));
  const before = tree(dataDir);
  const dest = join(scratch('backup-torn'), 'b');
  const io = capture();
  expect(await main(['backup', dataDir, dest, 'alpha'])).toBe(0);
  expect(io.out()).toMatch(/^alpha: LSN 5 /);
  expect(tree(dataDir)).toEqual(before);
  const copy = join(dest, 'alpha', 'log', readdirSync(join(dest, 'alpha', 'log'))[0]!);
  expect(statSync(copy).size).toBe(statSync(last).size - 6);
});

test('bad input is refused with a clear error and exit 1, and nothing is written', async () => {
  const dataDir = await dataWithDocuments();
  const source = tree(dataDir);
  const io = capture();
  const base = scratch('backup-bad');

  expect(await main(['backup', join(base, 'missing'), join(base, 'b')])).toBe(1);
  expect(io.err()).toContain(`data directory ${join(base, 'missing')} does not exist`);
  const empty = join(base, 'empty');
  mkdirSync(empty);
  expect(await main(['backup', empty, join(base, 'b')])).toBe(1);
  expect(io.err()).toContain(`no documents in ${empty}`);
  const used = join(base, 'used');
  mkdirSync(used);
  writeFileSync(join(used, 'notes.txt'), 'mine');
  expect(await main(['backup', dataDir, used])).toBe(1);
  expect(io.err()).toContain(`the backup destination ${used} already exists and is not an empty folder`);
  expect(await main(['backup', dataDir, join(dataDir, 'backups')])).toBe(1);
  expect(io.err()).toContain('is inside the data directory');
  expect(await main(['backup', dataDir, join(base, 'b'), 'nope'])).toBe(1);
  expect(io.err()).toContain('no document "nope"');
  expect(readdirSync(base).sort()).toEqual(['empty', 'used']);
  expect(tree(dataDir)).toEqual(source);
  expect(await main(['backup', dataDir])).toBe(2);

  // restore: not a backup; a data directory that has the document; a document the backup lacks.
  expect(await main(['restore', used, join(base, 'r')])).toBe(1);
  expect(io.err()).toContain(`${used} is not a finished Quire backup: it has no quire-backup.json`);
  const dest = join(base, 'b');
  expect(await main(['backup', dataDir, dest])).toBe(0);
  expect(await main(['restore', dest, dataDir])).toBe(1);
  expect(io.err()).toContain(`${dataDir} already has documents "alpha", "beta" — restore never replaces a document`);
  expect(await main(['restore', dest, join(base, 'r'), 'gamma'])).toBe(1);
  expect(io.err()).toContain(`holds no document "gamma" — it has alpha, beta`);
  expect(existsSync(join(base, 'r'))).toBe(false);
  expect(tree(dataDir)).toEqual(source);

  // A damaged backup: its log opens short of the LSN it recorded.
  const segment = join(dest, 'alpha', 'log', readdirSync(join(dest, 'alpha', 'log'))[0]!);
  truncateSync(segment, statSync(segment).size - 10);
  expect(await main(['restore', dest, join(base, 'r')])).toBe(1);
  expect(io.err()).toContain('document "alpha" in backup');
  expect(io.err()).toContain('opens at LSN 4, but the backup recorded LSN 5');
  expect(existsSync(join(base, 'r'))).toBe(false);
});
