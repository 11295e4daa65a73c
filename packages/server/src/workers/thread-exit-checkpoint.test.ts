import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';

// Why the pool drops a crashed worker's volumes (WorkerPool, `dropVolume`):
// when a thread ends, better-sqlite3 closes its connections for it, and the
// writer's close checkpoints the WAL, commits the log may lack included.
test("a thread that exits with a document's writer open checkpoints the WAL into the database file", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-thread-exit-'));
  try {
    const path = join(dir, 'document.sqlite');
    const setup = new Database(path);
    setup.pragma('journal_mode = WAL');
    setup.exec('CREATE TABLE t (x)');
    setup.close();
    const code = `
      const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new Database(${JSON.stringify(path)});
      db.pragma('wal_autocheckpoint = 0');
      db.exec('INSERT INTO t VALUES (1)');
      process.exit(70);
    `;
    await new Promise((resolve) => new Worker(code, { eval: true }).on('exit', resolve));
    expect(existsSync(`${path}-wal`)).toBe(false);
    const alone = new Database(path, { readonly: true });
    expect(alone.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    alone.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
