import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { describe, expect, test } from 'vitest';
import app from '../test/fixtures/metrics-app.js';
import { memoryLogger } from '../test/memory-logger.js';
import { ServerPerTest } from '../test/server-per-test.js';
import { createSyncServer } from './sync-server.js';
import { documentSlot } from './workers/document-slot.js';

// With workers: real worker threads, which run the build of this package (`pnpm turbo run build` first).
const APP_MODULE = new URL('../test/fixtures/metrics-app.ts', import.meta.url);
const WORKERS = 2;

const each = new ServerPerTest(app, 'quire-metrics-');

async function start(options: { workers: boolean; metrics?: Registry | false }) {
  const url = await each.start({
    logger: memoryLogger().logger,
    ...(options.workers && { workers: { module: APP_MODULE, count: WORKERS } }),
    ...(options.metrics !== undefined && { metrics: options.metrics }),
  });
  return { url, http: url.replace(/^ws/, 'http') };
}

/** One document on each worker (with one thread, any two). */
const twoDocs = () => [0, 1].map((slot) => `doc-${Array.from({ length: 100 }, (_, i) => i).find((i) => documentSlot(`doc-${i}`, WORKERS) === slot)}`);

/**
 * A scrape with every worker's figures. A worker that has not answered within
 * a second (a busy machine) is shown with its previous figures and counted
 * stale: scrape again, a bounded number of times, until none is.
 */
async function scrape(http: string): Promise<Map<string, number>> {
  let series = await scrapeOnce(http);
  for (let again = 1; again < 10 && (series.get('quire_metrics_stale_workers') ?? 0) > 0; again++) series = await scrapeOnce(http);
  return series;
}

/** A scrape's series by name and labels (`name{label="value"}`), checking every line is Prometheus text. */
async function scrapeOnce(http: string): Promise<Map<string, number>> {
  const response = await fetch(`${http}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parse(await response.text());
}

function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) quire_\w+ \S/.test(line)) continue;
    const match = /^(quire_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a line of Quire's Prometheus text: ${line}`);
    series.set(match[1]!, Number(match[2]));
  }
  return series;
}

/** The metric names a scrape declares (`# TYPE` lines). */
async function declared(http: string): Promise<string[]> {
  const text = await (await fetch(`${http}/metrics`)).text();
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!).sort();
}

/** The metrics the "Metrics" section of docs/OPERATIONS.md lists in its tables. */
function documented(): string[] {
  const doc = readFileSync(new URL('../../../docs/OPERATIONS.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('\n## Metrics\n'), doc.indexOf('\n## ', doc.indexOf('\n## Metrics\n') + 1));
  return [...section.matchAll(/^\| `(quire_\w+)`/gm)].map((m) => m[1]!).sort();
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(10);
}

describe.each([
  { mode: 'one thread', workers: false },
  { mode: `${WORKERS} workers`, workers: true },
])('/metrics ($mode)', ({ workers }) => {
  test('counts what real clients did: mutations applied and rejected, commits, durability, connections, bytes, pages, log size', async () => {
    const { url, http } = await start({ workers });
    const [docA, docB] = twoDocs() as [string, string];
    const writers = [each.client(url, docA, 'a1'), each.client(url, docA, 'a2'), each.client(url, docB, 'b1')];
    const perClient = 5;
    await Promise.all(writers.flatMap((c) => Array.from({ length: perClient }, (_, n) => c.mutate.add({ id: `${c.clientId}-${n}` }).server)));
    await expect(writers[2]!.mutate.refuse().server).rejects.toMatchObject({ code: 'reducer_error' });
    await each.server.mutate(docB, 'add', { id: 'from-server' });
    // A connection refused at the door.
    const bad = new WebSocket(`${url}/?doc=${encodeURIComponent('no/slashes')}`);
    bad.on('error', () => {});
    await new Promise((resolve) => bad.once('close', resolve));

    const m = await scrape(http);
    const commits = m.get('quire_commits_total')!;
    const exactly = {
      'quire_mutations_applied_total': writers.length * perClient + 1,
      'quire_mutations_rejected_total{code="reducer_error"}': 1,
      'quire_documents_open': 2,
      'quire_documents_opened_total': 2,
      'quire_document_open_failures_total': 0,
      'quire_connections_open': 3,
      'quire_connections_total': 4,
      'quire_connections_refused_total{code="invalid_doc_id"}': 1,
      // Each document's one migration is a commit too; every other commit is a batch.
      'quire_commit_duration_seconds_count': commits - 2,
      'quire_commit_duration_seconds_bucket{le="+Inf"}': commits - 2,
      // Every commit is durable by now: the last call resolved only once its commit was, and commits become durable in order.
      'quire_durability_wait_seconds_count': commits,
      'quire_frames_sent_total{type="welcome"}': 3,
      'quire_frames_sent_total{type="rejections"}': 1,
    };
    expect(Object.fromEntries(Object.keys(exactly).map((series) => [series, m.get(series)]))).toEqual(exactly);
    const some = [
      'quire_durability_wait_seconds_sum',
      'quire_frames_sent_total{type="commit"}',
      'quire_pages_served_total{kind="snapshot"}',
      'quire_websocket_received_bytes_total',
      'quire_websocket_sent_bytes_total',
      'quire_commit_log_bytes',
    ];
    for (const series of some) expect(m.get(series), series).toBeGreaterThan(0);
    if (workers) expect(m.get('quire_metrics_stale_workers')).toBe(0);

    // Every metric is in the docs, and every documented one is served (the workers' gauge only with workers).
    const names = await declared(http);
    expect(names).toEqual(documented().filter((name) => workers || name !== 'quire_metrics_stale_workers'));

    await Promise.all(writers.map((c) => c.close()));
    await until(async () => (await scrape(http)).get('quire_connections_open') === 0);
    const closed = await scrape(http);
    expect(closed.get('quire_connections_total')).toBe(4);
    expect(closed.get('quire_mutations_applied_total')).toBe(writers.length * perClient + 1);
  });
});

describe('/metrics with workers', () => {
  test("does not wait for a worker that a long reducer holds: the scrape shows that worker's previous figures and says so", async () => {
    const { http } = await start({ workers: true });
    const [docA, docB] = twoDocs() as [string, string];
    await each.server.mutate(docA, 'add', { id: 'a' });
    await each.server.mutate(docB, 'add', { id: 'b' });
    expect((await scrape(http)).get('quire_mutations_applied_total')).toBe(2);

    const started = join(each.dataDir, 'started');
    const release = join(each.dataDir, 'release');
    const held = each.server.mutate(docA, 'hold', { started, release });
    await until(() => existsSync(started));
    const during = await scrapeOnce(http);
    expect(during.get('quire_metrics_stale_workers')).toBe(1);
    expect(during.get('quire_mutations_applied_total')).toBe(2);
    expect(during.get('quire_documents_open')).toBe(2);

    writeFileSync(release, '');
    await held;
    const after = await scrape(http);
    expect(after.get('quire_metrics_stale_workers')).toBe(0);
    expect(after.get('quire_mutations_applied_total')).toBe(3);
  });

  test('counters do not go back when a worker crashes and a new one starts', async () => {
    const { http } = await start({ workers: true });
    const [docA] = twoDocs() as [string, string];
    await each.server.mutate(docA, 'add', { id: 'a' });
    await each.server.mutate(docA, 'add', { id: 'b' });
    const before = await scrape(http);
    expect(before.get('quire_mutations_applied_total')).toBe(2);
    await expect(each.server.mutate(docA, 'crash', {})).rejects.toMatchObject({ code: 'outcome_unknown' });
    // The new worker reopens the document from its log.
    await each.server.mutate(docA, 'add', { id: 'c' });
    const after = await scrape(http);
    expect(after.get('quire_mutations_applied_total')).toBe(3);
    expect(after.get('quire_commits_total')).toBeGreaterThan(before.get('quire_commits_total')!);
    expect(after.get('quire_documents_opened_total')).toBe(2);
    expect(after.get('quire_documents_open')).toBe(1);
  });
});

describe('the metrics option', () => {
  test("an app's own registry gets Quire's metrics; a second server on it is refused with a clear error", async () => {
    const registry = new Registry();
    const { http } = await start({ workers: false, metrics: registry });
    expect(each.server.metricsRegistry).toBe(registry);
    await each.server.mutate('doc', 'add', { id: 'a' });
    expect(parse(await registry.metrics()).get('quire_mutations_applied_total')).toBe(1);
    expect((await scrape(http)).get('quire_mutations_applied_total')).toBe(1);
    expect(() => createSyncServer({ reducers: app, dataDir: each.dataDir, metrics: registry })).toThrow(/already holds the metrics of another sync server/);
    expect(() => createSyncServer({ reducers: app, dataDir: each.dataDir, metrics: true as never })).toThrow('createSyncServer: options.metrics must be a prom-client Registry, or false for no metrics — got true');
  });

  test('metrics: false serves none', async () => {
    const { http } = await start({ workers: false, metrics: false });
    expect(each.server.metricsRegistry).toBeUndefined();
    expect((await fetch(`${http}/metrics`)).status).toBe(426);
  });
});
