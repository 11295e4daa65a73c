import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { defineReducers } from '@quire/core';
import { createSyncServer } from './sync-server.js';

const reducers = defineReducers({ noop: () => {} });
let dataDir: string | undefined;
afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

test('options that cannot work are refused at once, with nothing written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-options-'));
  dataDir = dir;
  for (const pageCacheKib of [0, -5, 1.5, Number.NaN, '512' as unknown as number]) {
    expect(() => createSyncServer({ reducers, dataDir: dir, pageCacheKib })).toThrow(/pageCacheKib must be a whole number of KiB above 0/);
  }
  expect(() => createSyncServer({ reducers, dataDir: dir, cluster: {} })).toThrow(/`cluster` needs `s3`/);
  // 2^31 ms is past setInterval's limit: it would sweep every millisecond.
  for (const pingIntervalMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
    expect(() => createSyncServer({ reducers, dataDir: dir, pingIntervalMs })).toThrow(`createSyncServer: pingIntervalMs must be a positive whole number of ms up to 2147483647 (or Infinity), got ${pingIntervalMs}`);
  }
  expect(readdirSync(dir)).toEqual([]);
});
