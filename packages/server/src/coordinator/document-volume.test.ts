import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { QuireError } from '@quire/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DocumentLock } from './document-lock.js';
import { DocumentVolume } from './document-volume.js';

test('pages() returns only pages that exist: none below 1 or past the page count', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  const volume = DocumentVolume.open(dir, null);
  try {
    const count = volume.pageCount;
    expect(count).toBeGreaterThan(0);
    const pages = volume.pages([0, -3, 1, count, count + 1]);
    expect(pages.map((p) => p.pgno)).toEqual(count === 1 ? [1] : [1, count]);
    for (const page of pages) expect(page.data.byteLength).toBe(4096);
  } finally {
    volume.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('discard() closes without checkpointing: a commit the log never got is rolled back by the next open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  try {
    const volume = DocumentVolume.open(dir, null);
    volume.db.exec("BEGIN; CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('durable'); COMMIT");
    const durable = volume.capture(false)!.mark;
    volume.db.exec("INSERT INTO t VALUES ('never durable')");
    volume.capture(false);
    volume.discard();
    // A plain close() here would have copied 'never durable' into the db file, out of the WAL's reach.
    const reopened = DocumentVolume.open(dir, durable);
    try {
      expect(reopened.db.prepare('SELECT x FROM t').pluck().all()).toEqual(['durable']);
    } finally {
      reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the volume does not fsync its WAL per commit, but its checkpoints do sync (synchronous=NORMAL, never OFF)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  const volume = DocumentVolume.open(dir, null);
  try {
    // OFF would skip the syncs of a checkpoint too, and document.mark could then name pages the disk never got.
    expect(volume.db.pragma('synchronous', { simple: true })).toBe(1);
  } finally {
    volume.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the page cache is bounded by pageCacheKib (2 MiB by default), and a transaction larger than it is still captured as one commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  try {
    const volume = DocumentVolume.open(dir, null);
    expect(volume.db.pragma('cache_size', { simple: true })).toBe(-2048);
    volume.close();
    const small = DocumentVolume.open(dir, null, { pageCacheKib: 64 });
    expect(small.db.pragma('cache_size', { simple: true })).toBe(-64);
    // 200 rows of 2 KB: about 100 pages dirtied in one transaction, against a cache of 16.
    small.db.exec('CREATE TABLE t (x BLOB)');
    small.capture(false);
    const insert = small.db.prepare('INSERT INTO t VALUES (randomblob(2000))');
    small.db.transaction(() => {
      for (let i = 0; i < 200; i++) insert.run();
    })();
    const captured = small.capture(false)!;
    expect(captured.commit.pages.size).toBeGreaterThan(90);
    expect(small.pages([...captured.commit.pages.keys()]).map((p) => p.data)).toEqual([...captured.commit.pages.values()]);
    small.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('open() moves the lock onto the volume: one connection holds both, and closing the volume gives the lock back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  try {
    const volume = DocumentVolume.open(dir, null, {}, DocumentLock.acquire(dir));
    expect(DocumentLock.isHeld(dir)).toBe(true);
    volume.db.exec('CREATE TABLE t (x)');
    expect(volume.capture(false)).toBeDefined();
    volume.close();
    expect(DocumentLock.isHeld(dir)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a volume whose lock was taken by another process while it moved closes without checkpointing: the WAL keeps its commits for whoever holds the lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  try {
    const first = DocumentVolume.open(dir, null);
    first.db.exec('CREATE TABLE t (x)');
    const mark = first.capture(false)!.mark;
    first.discard();
    const taken = { moveTo: () => { throw new QuireError('document_locked', 'taken'); } } as unknown as DocumentLock;
    expect(() => DocumentVolume.open(dir, mark, {}, taken)).toThrow(expect.objectContaining({ code: 'document_locked' }));
    // A normal close, as the last connection, would have checkpointed the commit into the db file and deleted the WAL.
    expect(existsSync(join(dir, 'document.sqlite-wal')) && statSync(join(dir, 'document.sqlite-wal')).size).toBeGreaterThan(32);
    const reopened = DocumentVolume.open(dir, mark);
    try {
      expect(reopened.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 't'").pluck().get()).toBe(1);
    } finally {
      reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a volume with no batch for restAfterMs empties its page cache; wake() gives the cache its limit back, and writes go on as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-volume-'));
  const volume = DocumentVolume.open(dir, null, { restAfterMs: 20, pageCacheKib: 512 });
  try {
    volume.wake();
    volume.db.exec("BEGIN; CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('before'); COMMIT");
    expect(volume.capture(false)).toBeDefined();
    await new Promise((r) => setTimeout(r, 80));
    // Resting: a limit of 3 pages, so the next read preallocates 3, not 20 (see startSmallPageCache).
    expect(volume.db.pragma('cache_size', { simple: true })).toBe(3);
    volume.wake();
    expect(volume.db.pragma('cache_size', { simple: true })).toBe(-512);
    volume.db.exec("INSERT INTO t VALUES ('after')");
    expect(volume.capture(false)!.commit.pages.size).toBeGreaterThan(0);
    expect(volume.db.prepare('SELECT x FROM t ORDER BY rowid').pluck().all()).toEqual(['before', 'after']);
    // Each wake puts the rest off again.
    await new Promise((r) => setTimeout(r, 10));
    volume.wake();
    await new Promise((r) => setTimeout(r, 15));
    expect(volume.db.pragma('cache_size', { simple: true })).toBe(-512);
  } finally {
    volume.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
