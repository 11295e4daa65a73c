import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DocumentLock, LOCK_FILE } from './document-lock.js';

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
