import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { record, runCommitLogContract } from './commit-log.contract.js';
import { FileCommitLog } from './file-commit-log.js';

const root = mkdtempSync(join(tmpdir(), 'quire-log-'));
const logs = new Map<string, string>();
runCommitLogContract('FileCommitLog', (key) => {
  if (!logs.has(key)) logs.set(key, mkdtempSync(join(root, `${key}-`)));
  return new FileCommitLog(logs.get(key)!);
});

test('a torn last record is dropped on open, and appends continue after the good ones', async () => {
  const dir = mkdtempSync(join(root, 'torn-'));
  const log = new FileCommitLog(dir);
  await log.open();
  await log.append([record(1), record(2)]);
  await log.close();
  const file = join(dir, 'commits.qlog');
  const bytes = readFileSync(file);
  const good = statSync(file).size;
  // Simulate a crash halfway through appending record 3.
  const third = Buffer.from((await import('./commit-record-codec.js')).encodeRecord(record(3)));
  writeFileSync(file, Buffer.concat([bytes, third.subarray(0, third.length >> 1)]));

  const reopened = new FileCommitLog(dir);
  expect((await reopened.open()).last?.lsn).toBe(2);
  expect(statSync(file).size).toBe(good);
  await reopened.append([record(3)]);
  await reopened.close();
  const last = new FileCommitLog(dir);
  expect((await last.open()).last?.lsn).toBe(3);
  await last.close();
});

test('a flipped bit in a record stops recovery there', async () => {
  const dir = mkdtempSync(join(root, 'flip-'));
  const log = new FileCommitLog(dir);
  await log.open();
  await log.append([record(1), record(2), record(3)]);
  await log.close();
  const file = join(dir, 'commits.qlog');
  const bytes = readFileSync(file);
  const recordBytes = bytes.length / 3;
  bytes[Math.floor(recordBytes * 1.5)]! ^= 0x10;
  writeFileSync(file, bytes);
  const reopened = new FileCommitLog(dir);
  expect((await reopened.open()).last?.lsn).toBe(1);
  await reopened.close();
});
