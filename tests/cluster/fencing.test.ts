// Fencing on a real S3 server (Ceph RGW): two `quire serve` processes on one
// bucket and prefix WITHOUT --cluster, so both coordinate the same document
// (no lease keeps them apart), each with its own clients, under load. Only the
// log's conditional writes keep them honest: every LSN is won by one node, the
// loser steps down and reopens from the bucket, and its clients resend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { RGW_SETUP_TIMEOUT_MS, rgw, rgwOptions } from '../../packages/server/test/s3/rgw.js';
import { decodeCommitObject } from '../../packages/server/src/log/s3/commit-object.js';
import { ObjectKeys } from '../../packages/server/src/log/s3/object-keys.js';
import { S3Store } from '../../packages/server/src/log/s3/s3-store.js';
import type { S3LogOptions } from '../../packages/server/src/log/s3/s3-log-options.js';
import { Balancer } from '../helpers/balancer.js';
import { ledgerReducers, type LedgerReducers } from '../helpers/ledger-reducers.js';
import { startLedgerWriters } from '../helpers/ledger-writers.js';
import { s3ServeOptions } from '../helpers/s3-serve.js';
import { killAllServerProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const REDUCERS = join(dirname(fileURLToPath(import.meta.url)), '../helpers/ledger-reducers.ts');
const DOC = 'ledger';
const WRITE_MS = 20_000;
const CLIENTS_PER_NODE = 2;

const dirs: string[] = [];
beforeAll(() => rgw(), RGW_SETUP_TIMEOUT_MS);
afterAll(async () => {
  await killAllServerProcesses();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface ChainCommit {
  lsn: number;
  key: string;
  clients: string[];
}

/** Every commit record in every commit object of the document, as the bucket holds them (not only the chain a reader walks). */
async function bucketCommits(s3: S3LogOptions): Promise<ChainCommit[]> {
  const store = new S3Store(s3);
  const keys = new ObjectKeys(store.prefix, DOC);
  try {
    const out: ChainCommit[] = [];
    for await (const key of store.list(keys.commits)) {
      const bytes = await store.get(key);
      if (!bytes) continue;
      for (const r of decodeCommitObject(bytes, key, keys.firstLsn(key), { pages: false })) out.push({ lsn: r.lsn, key, clients: r.settled.map((s) => s.clientId) });
    }
    return out.sort((a, b) => a.lsn - b.lsn);
  } finally {
    store.close();
  }
}

test(`two nodes that both coordinate one document write for ${WRITE_MS / 1000} s: each LSN is won once, the loser steps down, nothing confirmed is lost`, async () => {
  const s3 = await rgwOptions();
  const serve = await s3ServeOptions(s3);
  const start = async (name: string): Promise<ServerProcess> => {
    const dataDir = mkdtempSync(join(tmpdir(), `quire-fencing-${name}-`));
    dirs.push(dataDir);
    return startServerProcess({
      reducers: REDUCERS,
      dataDir,
      args: [...serve.args, '--log-level', 'info'],
      env: serve.env,
    });
  };
  const nodes = { a: await start('a'), b: await start('b') };
  const nodeOf = (clientId: string) => (Number.parseInt(clientId.slice('writer'.length), 10) < CLIENTS_PER_NODE ? 'a' : 'b');
  // Each node's clients reach it through a balancer of their own, so that at the end b's can be sent to a.
  const routes = { a: nodes.a.port, b: nodes.b.port };
  const balancers = { a: await Balancer.start(() => [routes.a]), b: await Balancer.start(() => [routes.b]) };
  const clients: QuireClient<LedgerReducers>[] = Array.from({ length: 2 * CLIENTS_PER_NODE }, (_, i) => {
    const clientId = `writer${i}`;
    return createClient({ url: balancers[nodeOf(clientId)].url, docId: DOC, reducers: ledgerReducers, clientId, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  });
  const dump = () => Object.entries(nodes).map(([name, n]) => `--- node ${name}\n${n.output().slice(-4000)}`).join('\n');
  try {
    await clients[0]!.mutate.init().server;
    const started = Date.now();
    const writers = startLedgerWriters(clients);
    const { confirmed, failures } = writers;
    await new Promise((r) => setTimeout(r, WRITE_MS));
    await writers.stop();
    const settleStart = Date.now();
    // Bounded: a node backing off after repeated fencing reopens within a minute.
    await Promise.race([
      Promise.all(clients.map((c) => c.synced())),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`clients did not settle within 90 s: ${JSON.stringify(clients.map((c) => c.status()))}\n${dump()}`)), 90_000)),
    ]);
    const settleMs = Date.now() - settleStart;

    // Without a lease, a node that writes nothing never hears of the other's
    // commits: its clients read an old state until its next write fences it.
    const rowsOf = async (c: QuireClient<LedgerReducers>) => (await c.query<{ n: number }>('SELECT count(*) AS n FROM entries'))[0]!.n;
    const staleView = await Promise.all(clients.map(rowsOf));
    const duel = await bucketCommits(s3);
    // So retire b (a clean stop), send its clients to a, and write once through
    // each side: a, if stale, is fenced by its write and reopens from the bucket.
    routes.b = routes.a;
    await nodes.b.kill('SIGTERM');
    await Promise.all([clients[0]!, clients[CLIENTS_PER_NODE]!].map((c) => c.mutate.append({ id: `${c.clientId}-final`, client: c.clientId, n: 1_000_000, padBytes: 0 }).server.then(({ lsn }) => confirmed.set(`${c.clientId}-final`, lsn))));
    await Promise.all(clients.map((c) => c.synced()));
    const last = Math.max(...confirmed.values());
    await expect.poll(() => clients.map((c) => c.status().lsn), { timeout: 30_000 }).toEqual(clients.map(() => last));

    // The bucket: one record per LSN, contiguous (a second write of an LSN, even off the chain, shows here).
    const commits = await bucketCommits(s3);
    const lsns = commits.map((c) => c.lsn);
    expect(new Set(lsns).size, 'no LSN is in the bucket twice').toBe(lsns.length);
    expect(lsns, 'the LSNs are contiguous').toEqual(Array.from({ length: lsns.length }, (_, i) => lsns[0]! + i));

    // Who won each LSN: the node whose clients' mutations it settles (the two sets of clients never mix).
    const winner = duel.map((c) => {
      const sides = new Set(c.clients.filter((id) => id.startsWith('writer')).map(nodeOf));
      expect(sides.size, `LSN ${c.lsn} settles clients of one node only`).toBeLessThanOrEqual(1);
      return [...sides][0];
    });
    // Compaction removed the oldest commits from the bucket: the confirmations tell who won those.
    const duelling = [...confirmed].filter(([id]) => !id.endsWith('-final'));
    const confirmedLsns = (side: 'a' | 'b') => new Set(duelling.filter(([id]) => nodeOf(id) === side).map(([, lsn]) => lsn));
    const won = { a: confirmedLsns('a').size, b: confirmedLsns('b').size };
    const wonKept = { a: winner.filter((w) => w === 'a').length, b: winner.filter((w) => w === 'b').length };
    // Each time a node writes again after the other wrote, its view of the
    // chain was stale: it must have lost a conditional write and stepped down.
    const resumed = { a: 0, b: 0 };
    let previous: 'a' | 'b' | undefined;
    const seen = new Set<string>();
    const byWinner = new Map<number, string>(duel.flatMap((c, i) => (winner[i] ? [[c.lsn, winner[i]!] as const] : [])));
    for (const [id, lsn] of duelling) byWinner.set(lsn, nodeOf(id));
    for (const [, w] of [...byWinner].sort((x, y) => x[0] - y[0])) {
      if (previous && w !== previous && seen.has(w)) resumed[w as 'a' | 'b']++;
      seen.add(w);
      previous = w as 'a' | 'b';
    }
    const fenced = {
      a: nodes.a.output().match(/log_fenced/g)?.length ?? 0,
      b: nodes.b.output().match(/log_fenced/g)?.length ?? 0,
    };
    const stepDowns = {
      a: nodes.a.output().match(/document stopped after an internal error/g)?.length ?? 0,
      b: nodes.b.output().match(/document stopped after an internal error/g)?.length ?? 0,
    };
    console.log(
      `fencing: ${WRITE_MS} ms of writing, ${lsns.length} LSNs (${lsns[0]}..${lsns.at(-1)}), LSNs carrying confirmed calls won by a: ${won.a}, b: ${won.b} (of those still in the bucket: a ${wonKept.a}, b ${wonKept.b}); ` +
        `a node resumed after the other wrote: a ${resumed.a}, b ${resumed.b} times; log_fenced lines: a ${fenced.a}, b ${fenced.b}; ` +
        `documents stopped: a ${stepDowns.a}, b ${stepDowns.b}; ${confirmed.size} mutations confirmed (by clients of a: ${[...confirmed.keys()].filter((id) => id.startsWith('writer') && nodeOf(id) === 'a').length}, of b: ${[...confirmed.keys()].filter((id) => id.startsWith('writer') && nodeOf(id) === 'b').length}); ` +
        `settled ${settleMs} ms after writing stopped; rows each client saw before b retired: ${staleView.join(', ')} (${Date.now() - started} ms in all)`,
    );
    for (const name of ['a', 'b'] as const) {
      expect(stepDowns[name], `node ${name} stepped down at least each time it lost the chain`).toBeGreaterThanOrEqual(resumed[name]);
      expect(fenced[name], `node ${name} logged log_fenced at least each time it lost the chain`).toBeGreaterThanOrEqual(resumed[name]);
      // Nothing but fencing stopped it, and it never had to repair a client's history.
      expect(nodes[name].output()).not.toMatch(/corrupt_log|lost commits|lsn_gap/);
    }
    // The two nodes did duel (both won LSNs), and writing went on.
    expect(won.a).toBeGreaterThan(0);
    expect(won.b).toBeGreaterThan(0);

    expect(failures).toEqual([]);
    // Every client sees the same rows, every confirmed call once, at the LSN the bucket has it.
    const views = await Promise.all(clients.map((c) => c.query<{ id: string }>('SELECT id FROM entries ORDER BY id')));
    for (const view of views.slice(1)) expect(view).toEqual(views[0]);
    const ids = views[0]!.map((r) => r.id);
    expect(ids.length, 'no mutation applied twice').toBe(new Set(ids).size);
    const present = new Set(ids);
    expect([...confirmed.keys()].filter((id) => !present.has(id)), 'confirmed but lost').toEqual([]);
    // A confirmation names the LSN of a commit in the bucket that settled that client.
    const byLsn = new Map(commits.map((c) => [c.lsn, c]));
    const misplaced = [...confirmed].filter(([id, lsn]) => lsn >= lsns[0]! && !byLsn.get(lsn)?.clients.includes(id.slice(0, id.lastIndexOf('-'))));
    expect(misplaced, 'confirmed at an LSN the bucket gives to another commit').toEqual([]);
    expect(ids.length).toBe(confirmed.size);
    const counters = await clients[0]!.query<{ client: string; applied: number }>('SELECT client, applied FROM counters ORDER BY client');
    for (const { client, applied } of counters) expect(applied, `counter of ${client}`).toBe(ids.filter((id) => id.startsWith(`${client}-`)).length);
  } catch (error) {
    console.log(dump());
    throw error;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(Object.values(balancers).map((b) => b.close()));
  }
}, 240_000);
