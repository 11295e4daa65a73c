import { execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { FileStore } from './file-store.js';
import { runReplicaStoreContract } from './replica-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'quire-file-store-'));
const path = (name: string) => join(dir, `${name}.quire`);

runReplicaStoreContract('FileStore', (name) => FileStore.open(path(name)));

describe('FileStore', () => {
  test('a second open of the same file in this process is refused while the first is open', async () => {
    const first = await FileStore.open(path('twice'));
    await expect(FileStore.open(path('twice'))).rejects.toMatchObject({ code: 'store_in_use' });
    await first.close();
    await (await FileStore.open(path('twice'))).close();
  });

  test('another process cannot open a file this one holds', async () => {
    const store = await FileStore.open(path('locked'));
    await store.init('c');
    // A plain SQLite connection from a child process: the exclusive lock must stop it reading.
    const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(path('locked'))}, { timeout: 0 }); try { db.prepare('SELECT count(*) FROM meta').get(); console.log('read'); } catch (e) { console.log(e.code); }`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
    expect(out).toMatch(/^SQLITE_BUSY/);
    await store.close();
  });

  test('a file that is not a store is refused with a clear error, and left alone', async () => {
    const file = path('garbage');
    writeFileSync(file, 'this is not a database'.repeat(300));
    await expect(FileStore.open(file)).rejects.toMatchObject({ code: 'store_corrupt' });
  });

  test('a file of another format version is refused', async () => {
    const file = path('future');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    await expect(FileStore.open(file)).rejects.toMatchObject({ code: 'store_format', message: expect.stringContaining('format 99') });
  });

  test('destroy deletes the file, and refuses while it is open', async () => {
    const file = path('gone');
    const store = await FileStore.open(file);
    await store.init('c');
    await expect(FileStore.destroy(file)).rejects.toMatchObject({ code: 'store_in_use' });
    await store.close();
    await FileStore.destroy(file);
    expect(existsSync(file)).toBe(false);
    expect(await (await FileStore.open(file)).load()).toBeUndefined();
  });

  test('loads pages as plain Uint8Arrays, not Buffers (whose slice() would share memory)', async () => {
    const store = await FileStore.open(path('plain'));
    await store.init('c');
    await store.putBase({ kind: 'snapshot', lsn: 1, pageCount: 1, pages: [{ pgno: 1, data: new Uint8Array(4096).fill(3) }], settledThroughSeq: 0 });
    const [page] = (await store.load())!.pages;
    expect(Buffer.isBuffer(page!.data)).toBe(false);
    expect(page!.data).toBeInstanceOf(Uint8Array);
    await store.close();
  });

  test('writes after close are refused', async () => {
    const store = await FileStore.open(path('closed'));
    await store.init('c');
    await store.close();
    await expect(store.putPending({ seq: 1, name: 'x', argsJson: '{}' })).rejects.toMatchObject({ code: 'store_closed' });
  });
});
