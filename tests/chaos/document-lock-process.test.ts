import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { createClient } from '@quire/core';
import { createLogger, createSyncServer } from '@quire/server';
import { ledgerReducers } from '../helpers/ledger-reducers.js';
import { killAllServerProcesses, startServerProcess } from '../helpers/server-process.js';

/*
 * The document lock between real processes: a document a `quire serve`
 * child has open (its lock now rides on the volume's SQLite connection) is
 * refused to another process, and a SIGKILL of the child frees it, since
 * the OS drops a dead process's file locks.
 */
const REDUCERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers/ledger-reducers.ts');
const DOC = 'ledger';

afterEach(() => killAllServerProcesses());

test('a document a server process has open is refused to another process until that server is SIGKILLed, and then opens with every commit', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-lock-process-'));
  const child = await startServerProcess({ reducers: REDUCERS, dataDir });
  const client = createClient({ url: child.url, docId: DOC, reducers: ledgerReducers, clientId: 'writer', reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  // Silent: its refused open is logged at error level, and that is the point here.
  const other = createSyncServer({ reducers: ledgerReducers, dataDir, logger: createLogger({ level: 'silent' }) });
  try {
    await client.mutate.init().server;
    const { lsn } = await client.mutate.append({ id: 'a-1', client: 'writer', n: 1, padBytes: 0 }).server;

    // This process is the second one: the child holds the document while its client stays connected.
    await expect(other.mutate(DOC, 'append', { id: 'b-1', client: 'other', n: 1, padBytes: 0 })).rejects.toMatchObject({ code: 'document_locked' });

    await client.close();
    await child.kill('SIGKILL');
    // No close ran in the child; the lock went with the process, and server.lock was only ever read (nothing for a crash to tear).
    expect(statSync(join(dataDir, DOC, 'server.lock')).size).toBe(0);
    const after = await other.mutate(DOC, 'append', { id: 'b-1', client: 'other', n: 1, padBytes: 0 });
    expect(after.lsn).toBe(lsn + 1);
  } finally {
    await client.close();
    await other.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
