/**
 * How long a slow reducer on one document stalls the clients of another.
 *
 *   cd packages/server && node --conditions quire-source --import tsx scripts/measure-reducer-stall.ts [spinMs...]
 *
 * The server runs in a child process; the driver (this process) has two
 * clients on two documents. Client B confirms small mutations one after the
 * other the whole time; client A calls a reducer that busy-loops for spinMs
 * on the server. B's worst confirm latency, minus its median, is the stall.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, defineReducers } from '@quire/core';

const onServer = () => (globalThis as { quireStallServer?: boolean }).quireStallServer === true;

const reducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, note TEXT)'),
  add: (tx, { note }: { note: string }) => tx.exec('INSERT INTO rows (note) VALUES (?)', [note]),
  // Busy on the server only: the driver's own optimistic run must not stall the measuring client.
  spin: (tx, { ms }: { ms: number }) => {
    if (onServer()) for (const until = Date.now() + ms; Date.now() < until; );
    tx.exec('INSERT INTO rows (note) VALUES (?)', ['spun']);
  },
});

async function server(): Promise<void> {
  (globalThis as { quireStallServer?: boolean }).quireStallServer = true;
  const { createSyncServer } = await import('../src/index.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-stall-'));
  // No time limit: this measures the stall itself (the limit only stops the client's next calls).
  const sync = createSyncServer({ reducers, dataDir, limits: { reducerTimeMs: Infinity } });
  const { port } = await sync.listen(0);
  process.stdout.write(`port ${port}\n`);
  process.once('disconnect', () => void sync.close().finally(() => (rmSync(dataDir, { recursive: true, force: true }), process.exit(0))));
}

async function measure(url: string, spinMs: number): Promise<{ medianMs: number; worstMs: number; stalledMs: number }> {
  const a = createClient({ url, docId: `slow-${spinMs}`, reducers, clientId: 'a' });
  const b = createClient({ url, docId: `other-${spinMs}`, reducers, clientId: 'b' });
  a.mutate.init();
  b.mutate.init();
  await Promise.all([a.mutate.add({ note: 'warm' }).server, b.mutate.add({ note: 'warm' }).server]);
  const latencies: number[] = [];
  let spinning = true;
  const spin = new Promise<void>((resolve) => setTimeout(resolve, 300))
    .then(() => a.mutate.spin({ ms: spinMs }).server)
    .finally(() => (spinning = false));
  const stopAt = () => !spinning && latencies.length > 50;
  while (!stopAt()) {
    const start = performance.now();
    await b.mutate.add({ note: 'x' }).server;
    latencies.push(performance.now() - start);
  }
  await spin;
  await Promise.all([a.close(), b.close()]);
  const sorted = [...latencies].sort((x, y) => x - y);
  const medianMs = sorted[Math.floor(sorted.length / 2)]!;
  const worstMs = sorted[sorted.length - 1]!;
  return { medianMs, worstMs, stalledMs: worstMs - medianMs };
}

async function driver(spins: number[]): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'server'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /port (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const url = `ws://127.0.0.1:${port}`;
    process.stdout.write('reducer busy ms | other document: median confirm ms | worst confirm ms | stall ms\n');
    for (const spinMs of spins) {
      const r = await measure(url, spinMs);
      process.stdout.write(`${String(spinMs).padStart(15)} | ${r.medianMs.toFixed(1).padStart(31)} | ${r.worstMs.toFixed(0).padStart(16)} | ${r.stalledMs.toFixed(0).padStart(8)}\n`);
    }
  } finally {
    child.disconnect();
  }
}

if (process.argv[2] === 'server') await server();
else await driver(process.argv.slice(2).map(Number).filter((n) => n > 0).concat(process.argv.length > 2 ? [] : [100, 1000, 3000]));
