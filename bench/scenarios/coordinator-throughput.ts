import { join } from 'node:path';
import Database from 'better-sqlite3';
import { removeTempDir, tempDir } from '../lib/children.js';
import { startFleet } from '../lib/fleet.js';
import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, withServer } from '../lib/servers.js';
import { timedLoad } from '../lib/timed-load.js';
import { todoId, todoTitle } from '../lib/setup.js';

export interface ThroughputOptions {
  clients: number;
  /** Client child processes the clients are spread over. */
  processes: number;
  /** Measured mutations per client (after a warm-up). */
  perClient: number;
  /** Mutations each client keeps in flight (sent, not yet confirmed). */
  window: number;
  log: (line: string) => void;
}

/**
 * Sustained ordered mutations: 10 clients each keep `window` addTodo calls
 * in flight; the rate at which the server confirms them (durable, and
 * rebased on the client). The baseline is raw better-sqlite3 in this
 * process, running the same INSERT with the server's durability settings
 * (WAL, synchronous=FULL), one transaction per batch, the batch being the
 * average group commit the coordinator made in this run.
 *
 * Also reported: mutations per CPU-second of the server process, which
 * tells whether the coordinator or the clients were the limit.
 */
export async function coordinatorThroughput(options: ThroughputOptions): Promise<BenchResult[]> {
  const quire = await withServer(startQuireServer, async (server) => {
    await server.seed('throughput', []);
    const fleet = await startFleet({ kind: 'quire', url: server.url, docs: Array(options.clients).fill('throughput'), processes: options.processes, watch: false });
    try {
      const lsn = async () => Math.max(...(await fleet.all<number>('lsn')));
      await fleet.all('load', { count: 100, window: options.window, tag: 'w' });
      const lsn0 = await lsn();
      const { ms, serverCpuMs: cpuMs, clientCpu } = await timedLoad(server, fleet, options.perClient, options.window);
      const commits = (await lsn()) - lsn0;
      const total = options.clients * options.perClient;
      options.log(
        `quire: ${total} mutations in ${Math.round(ms)} ms, ${commits} commits (${(total / commits).toFixed(1)} per batch); CPU: server process ${Math.round((cpuMs / ms) * 100)}%, client processes ${clientCpu} (of one core each)`,
      );
      return { perSecond: (total / ms) * 1000, perCpuSecond: (total / cpuMs) * 1000, batch: total / commits, total };
    } finally {
      await fleet.close();
    }
  });
  const batch = Math.max(1, Math.round(quire.batch));
  const raw = rawSqlite(quire.total, batch);
  options.log(`raw better-sqlite3: ${quire.total} inserts in transactions of ${batch}: ${Math.round(raw.perSecond)}/s, ${Math.round(raw.perCpuSecond)} per CPU-second`);
  return [
    result('coordinator_mutations_per_s', quire.perSecond, 'mutations/s', raw.perSecond),
    result('coordinator_mutations_per_server_cpu_s', quire.perCpuSecond, 'mutations/s', raw.perCpuSecond),
  ];
}

/** Inserts per second (wall and CPU) of raw better-sqlite3, `batch` per transaction, on the same disk as the server's data. */
function rawSqlite(total: number, batch: number): { perSecond: number; perCpuSecond: number } {
  const dir = tempDir('quire-bench-raw-');
  const db = new Database(join(dir, 'raw.sqlite'));
  try {
    db.pragma('page_size = 4096');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0)');
    const insert = db.prepare('INSERT INTO todos (id, title) VALUES (?, ?)');
    const run = (count: number, tag: string) => {
      for (let i = 0; i < count; i += batch) {
        db.exec('BEGIN IMMEDIATE');
        for (let k = i; k < Math.min(count, i + batch); k++) insert.run(todoId(k, tag), todoTitle(k));
        db.exec('COMMIT');
      }
    };
    run(Math.min(total, 1000), 'w');
    const cpu = process.cpuUsage();
    const start = performance.now();
    run(total, 'm');
    const ms = performance.now() - start;
    const { user, system } = process.cpuUsage(cpu);
    return { perSecond: (total / ms) * 1000, perCpuSecond: (total / ((user + system) / 1000)) * 1000 };
  } finally {
    db.close();
    removeTempDir(dir);
  }
}
