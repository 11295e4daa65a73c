import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommitRecord, FileCommitLog } from '@quire/server';
import { type BenchResult, result } from '../lib/result.js';

/** The coordinator's defaults: a checkpoint every 1000 commits, 1024 commits kept behind it. */
const CHECKPOINT_EVERY = 1000;
const RETAIN = 1024;
const PAGES = 8;

/**
 * Opening a document's file log of 100 commits and of 100,000 (checkpointed
 * and compacted as the coordinator does it, the newest checkpoint at the last
 * commit): the median of `samples` opens each. The 100,000-commit open should
 * cost what the 100-commit one does: it reads the checkpoint's footer and the
 * commits after it, not history.
 */
export async function logOpen(samples: number, log: (line: string) => void): Promise<BenchResult[]> {
  const small = await withLog(100, (dir) => medianOpenMs(dir, samples));
  const large = await withLog(100_000, (dir) => medianOpenMs(dir, samples));
  log(`open: 100 commits ${small.toFixed(2)} ms, 100,000 commits ${large.toFixed(2)} ms (median of ${samples})`);
  return [result('open_100_commits_ms', small, 'ms'), result('open_100k_commits_ms', large, 'ms', small)];
}

async function withLog<T>(commits: number, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'quire-bench-log-'));
  try {
    const log = new FileCommitLog(dir);
    await log.open();
    await checkpoint(log, 0);
    for (let lsn = 1; lsn <= commits; ) {
      // One write of up to a checkpoint interval: the files are what matter here, not how they were appended.
      const end = Math.min(commits, lsn - 1 + CHECKPOINT_EVERY);
      const batch: CommitRecord[] = [];
      for (; lsn <= end; lsn++) batch.push(commit(lsn));
      await log.append(batch);
      if (end % CHECKPOINT_EVERY === 0) {
        await checkpoint(log, end);
        await log.compact(end - RETAIN);
      }
    }
    await log.close();
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function medianOpenMs(dir: string, samples: number): Promise<number> {
  const times: number[] = [];
  // Two warm-up opens: the files are in the page cache for every sample.
  for (let i = 0; i < samples + 2; i++) {
    const log = new FileCommitLog(dir);
    const start = performance.now();
    await log.open();
    const ms = performance.now() - start;
    await log.close();
    if (i >= 2) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** A commit that changed one page of an 8-page document (a 4 KiB record). */
function commit(lsn: number): CommitRecord {
  return {
    lsn,
    pageCount: PAGES,
    pages: [{ pgno: 1 + (lsn % PAGES), data: page(lsn) }],
    settled: [{ clientId: 'bench', lastSeq: lsn }],
    rejections: [],
    volume: { salt1: 1, salt2: 2, offset: 32 + lsn * 4120 },
  };
}

function checkpoint(log: FileCommitLog, lsn: number): Promise<void> {
  const pages = Array.from({ length: PAGES }, (_, i) => ({ pgno: i + 1, data: page(lsn + i) }));
  return log.writeCheckpoint({ lsn, pageCount: PAGES, rejections: [], unknownOutcomes: [], recent: [] }, pages);
}

function page(seed: number): Uint8Array {
  const data = new Uint8Array(4096);
  for (let i = 0; i < data.length; i += 64) data[i] = (seed + i) & 0xff;
  return data;
}
