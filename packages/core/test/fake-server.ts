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
  // The images as of the last snapshot or commit, to send only what changed.
  let sent = new Map<number, Uint8Array>();
  const run = (apply: () => void, settled: Record<string, number>) => {
    apply();
    for (const [clientId, seq] of Object.entries(settled)) db.exec(`INSERT OR REPLACE INTO ${CLIENTS_TABLE} VALUES (?, ?)`, [clientId, seq]);
    const pages = Array.from({ length: db.pages.pageCount() }, (_, i) => ({ pgno: i + 1, data: db.pages.read(i + 1)!.slice() }));
    const changed = pages.filter(({ pgno, data }) => !sameBytes(sent.get(pgno), data));
    sent = new Map(pages.map((p) => [p.pgno, p.data]));
    return { pages, changed };
  };
  return {
    db,
    /** Runs `apply`, records each client's last applied seq, and returns the whole database as the next snapshot. */
    snapshot(apply: () => void = () => {}, settled: Record<string, number> = {}) {
      const { pages } = run(apply, settled);
      return { kind: 'snapshot' as const, lsn: ++lsn, pageCount: pages.length, pages };
    },
    /** Like `snapshot`, but the next commit: only the pages that changed since the last one. */
    commit(apply: () => void = () => {}, settled: Record<string, number> = {}) {
      const { pages, changed } = run(apply, settled);
      return { kind: 'commit' as const, lsn: ++lsn, pageCount: pages.length, pages: changed };
    },
    /** Forgets the last `n` LSNs handed out: a crashed server never made them durable. */
    rewind(n: number) {
      lsn -= n;
    },
    add: (id: string) => () => void db.exec('INSERT INTO items (id) VALUES (?)', [id]),
  };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
