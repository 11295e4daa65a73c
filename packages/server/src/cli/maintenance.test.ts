import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

const capture = captureOutput;

afterEach(() => vi.restoreAllMocks());

test('quire inspect reports each document; quire compact checkpoints and compacts them, and refuses one a server has open', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-maintain-'));
  // Checkpoints rarely and keep few commits, so compaction has something to do.
  const server = createSyncServer({ reducers, dataDir, logger: silentLogger, compaction: { checkpointEveryCommits: 1_000_000, retainCommits: 2 } });
  try {
    for (let n = 1; n <= 6; n++) await server.mutate('alpha', 'add', { n });
    await server.mutate('beta', 'add', { n: 1 });
    const io = capture();

    expect(await main(['inspect', dataDir])).toBe(0);
    expect(io.out()).toContain('alpha  (open in a running server: figures as of now)\n  lsn 6   durable lsn 6   first lsn in log 1\n');
    expect(io.out()).toMatch(/\n {2}checkpoints @0\n/);
    expect(io.out()).toContain('\nbeta  (open in a running server');

    // The server holds both documents: nothing is touched.
    io.clear();
    const before = readdirSync(join(dataDir, 'alpha', 'log'));
    expect(await main(['compact', dataDir])).toBe(1);
    expect(io.out()).toMatch(/^\[1\/2\] alpha: skipped — the document in .* is open in another process \(it holds server.lock\)/);
    expect(readdirSync(join(dataDir, 'alpha', 'log'))).toEqual(before);
  } finally {
    await server.close();
  }
  const io = capture();
  expect(await main(['compact', dataDir, '--retain-commits', '0'])).toBe(0);
  // The segment holding the newest commit stays (compaction never removes it); the next commits go to a new one.
  expect(io.out()).toMatch(/^\[1\/2\] alpha: checkpoint at LSN 6; removed 0 commits and 1 checkpoints; log \d+ → \d+ bytes\n\[2\/2\] beta: checkpoint at LSN 1/);
  const again = createSyncServer({ reducers, dataDir, logger: silentLogger, compaction: { checkpointEveryCommits: 1_000_000 } });
  await again.mutate('alpha', 'add', { n: 7 });
  await again.close();
  io.clear();
  expect(await main(['compact', dataDir, 'alpha', '--retain-commits', '0'])).toBe(0);
  expect(io.out()).toMatch(/^\[1\/1\] alpha: checkpoint at LSN 7; removed 6 commits and 1 checkpoints/);
  io.clear();
  expect(await main(['inspect', dataDir, 'alpha'])).toBe(0);
  expect(io.out()).toContain('alpha\n  lsn 7   durable lsn 7   first lsn in log 7\n');
  expect(io.out()).toContain('  checkpoints @7\n');
  expect(io.out()).toContain('  recent rejections none');
  io.clear();
  expect(await main(['inspect', dataDir, 'nope'])).toBe(1);
  expect(io.err()).toContain('no document "nope"');
  rmSync(dataDir, { recursive: true, force: true });
});
