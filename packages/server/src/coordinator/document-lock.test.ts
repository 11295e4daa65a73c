import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DocumentLock, LOCK_FILE, LOCK_SCHEMA } from './document-lock.js';

test('the lock holds one file open (no journal) and keeps out another acquire until released', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-lock-'));
  try {
    const lock = DocumentLock.acquire(dir);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    expect(existsSync(join(dir, `${LOCK_FILE}-journal`))).toBe(false);
    expect(DocumentLock.isHeld(dir)).toBe(true);
    expect(() => DocumentLock.acquire(dir)).toThrow(expect.objectContaining({ code: 'document_locked' }));
    lock.release();
    expect(DocumentLock.isHeld(dir)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('moved onto another connection, the lock holds until that connection closes, and release() no longer gives it back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-lock-'));
  const db = new Database(join(dir, 'document.sqlite'));
  try {
    const lock = DocumentLock.acquire(dir);
    lock.moveTo(db);
    expect((db.pragma('database_list') as Array<{ name: string }>).map((row) => row.name)).toEqual(['main', LOCK_SCHEMA]);
    // Its own connection is gone (that is the point), and the lock is still held against everyone else.
    lock.release();
    expect(DocumentLock.isHeld(dir)).toBe(true);
    expect(() => DocumentLock.acquire(dir)).toThrow(expect.objectContaining({ code: 'document_locked' }));
    // Transactions on the connection go on as before; begun deferred, as a batch's, they write main only.
    db.exec('BEGIN; CREATE TABLE t (x); INSERT INTO t VALUES (1); COMMIT');
    expect(DocumentLock.isHeld(dir)).toBe(true);
    // Held by a read: server.lock is never written, so no crash can leave it torn.
    expect(statSync(join(dir, LOCK_FILE)).size).toBe(0);
    db.close();
    expect(DocumentLock.isHeld(dir)).toBe(false);
    expect(() => lock.moveTo(new Database(':memory:'))).toThrow(/already moved or released/);
  } finally {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
