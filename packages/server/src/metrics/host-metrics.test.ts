import { Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { HostMetrics, MAX_REJECTION_CODES } from './host-metrics.js';

function host() {
  const registry = new Registry();
  return { registry, metrics: new HostMetrics(registry, { documents: () => 3, logBytes: async () => 4096 }) };
}

async function values(registry: Registry, name: string): Promise<Array<{ labels: object; value: number }>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
  return metric.values.map(({ labels, value }) => ({ labels, value }));
}

test(`an app's rejection codes are series of their own up to ${MAX_REJECTION_CODES}; the rest count as "other"`, async () => {
  const { registry, metrics } = host();
  const codes = Array.from({ length: MAX_REJECTION_CODES + 10 }, (_, i) => ({ code: `code_${i}` }));
  metrics.batchApplied(codes.length + 5, codes, 0.001);
  // A code seen before the cap keeps its own series.
  metrics.batchApplied(1, [{ code: 'code_0' }], 0.001);
  const rejected = await values(registry, 'quire_mutations_rejected_total');
  expect(rejected).toHaveLength(MAX_REJECTION_CODES + 1);
  expect(rejected.find((v) => (v.labels as { code: string }).code === 'other')?.value).toBe(10);
  expect(rejected.find((v) => (v.labels as { code: string }).code === 'code_0')?.value).toBe(2);
  expect(await values(registry, 'quire_mutations_applied_total')).toEqual([{ labels: {}, value: 5 }]);
});

test('frames sent are tallied per type and handed over at each scrape, counting each frame once', async () => {
  const { registry, metrics } = host();
  metrics.sent('commit', 100);
  metrics.sent('commit', 50);
  metrics.sent('durable', 10);
  expect(await values(registry, 'quire_frames_sent_total')).toEqual([
    { labels: { type: 'commit' }, value: 2 },
    { labels: { type: 'durable' }, value: 1 },
  ]);
  metrics.sent('commit', 1);
  expect(await values(registry, 'quire_frames_sent_total')).toEqual([
    { labels: { type: 'commit' }, value: 3 },
    { labels: { type: 'durable' }, value: 1 },
  ]);
  expect(await values(registry, 'quire_websocket_sent_bytes_total')).toEqual([{ labels: {}, value: 161 }]);
});

test('documents open and log bytes are read at scrape time', async () => {
  const { registry } = host();
  expect(await values(registry, 'quire_documents_open')).toEqual([{ labels: {}, value: 3 }]);
  expect(await values(registry, 'quire_commit_log_bytes')).toEqual([{ labels: {}, value: 4096 }]);
});
