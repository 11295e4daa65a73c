import { CLIENTS_TABLE, CLIENTS_TABLE_DDL } from '../src/reducers/sql-dialect.js';
import { ReplicaDb } from '../src/replica/replica-db.js';

/**
 * A stand-in for the server in engine tests: another replica with an `items`
 * table, whose pages become the client's base as snapshots.
 */
export async function fakeServer() {
  const db = await ReplicaDb.open();
  db.exec(`${CLIENTS_TABLE_DDL}; CREATE TABLE items (id TEXT PRIMARY KEY)`);
  let lsn = 0;
  return {
    db,
    /** Runs `apply`, records each client's last applied seq, and returns the whole database as the next snapshot. */
    snapshot(apply: () => void = () => {}, settled: Record<string, number> = {}) {
      apply();
      for (const [clientId, seq] of Object.entries(settled)) db.exec(`INSERT OR REPLACE INTO ${CLIENTS_TABLE} VALUES (?, ?)`, [clientId, seq]);
      const pages = Array.from({ length: db.pages.pageCount() }, (_, i) => ({ pgno: i + 1, data: db.pages.read(i + 1)!.slice() }));
      return { kind: 'snapshot' as const, lsn: ++lsn, pageCount: pages.length, pages };
    },
    add: (id: string) => () => void db.exec('INSERT INTO items (id) VALUES (?)', [id]),
  };
}
