import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { createClient } from '@quire/core';
import { killAllServerProcesses, startServerProcess } from '../helpers/server-process.js';
import { appV1 } from '../helpers/versioned-apps.js';

// `quire serve` as a real process, with document workers: one scrape shows Quire's metrics from every worker and the process's own.
const APP = join(dirname(fileURLToPath(import.meta.url)), '../helpers/app-v1.ts');

let dataDir = '';
afterEach(async () => {
  await killAllServerProcesses();
  rmSync(dataDir, { recursive: true, force: true });
});

test('quire serve --workers 2 answers GET /metrics with the workers\' figures added up and the process metrics', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quire-metrics-process-'));
  const server = await startServerProcess({ reducers: APP, dataDir, args: ['--workers', '2'] });
  const docs = ['doc-1', 'doc-2', 'doc-3', 'doc-4'];
  const clients = docs.map((docId) => createClient({ url: server.url, docId, reducers: appV1, clientId: 'c' }));
  try {
    await Promise.all(clients.map(async (c) => {
      c.mutate.init();
      await c.mutate.addTodo({ id: c.docId, title: 'metrics' }).server;
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  // A worker that has not answered a scrape within a second (a busy machine)
  // is shown with its previous figures, and counted stale: scrape again, a
  // bounded number of times, until one scrape has every worker's answer.
  const valueIn = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    return { response, text: await response.text() };
  };
  let scraped = await scrape();
  for (let again = 1; again < 10 && valueIn(scraped.text, 'quire_metrics_stale_workers') !== 0; again++) scraped = await scrape();
  const { response, text } = scraped;
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const value = (series: string) => valueIn(text, series);
  // init and addTodo on each document, whichever worker holds it.
  expect(value('quire_mutations_applied_total')).toBe(2 * docs.length);
  expect(value('quire_documents_opened_total')).toBe(docs.length);
  expect(value('quire_metrics_stale_workers')).toBe(0);
  expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
  expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
});
