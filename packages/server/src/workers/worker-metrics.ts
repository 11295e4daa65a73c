import { AggregatorRegistry, Gauge, type Metric, type Registry } from 'prom-client';
import { HostMetrics } from '../metrics/host-metrics.js';
import type { MetricsJson } from './worker-messages.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * How long a scrape waits for the workers' answers. A worker busy longer (a
 * reducer that runs for seconds holds its thread) shows its previous figures,
 * and `quire_metrics_stale_workers` says how many did.
 */
export const WORKER_METRICS_TIMEOUT_MS = 1000;

type MetricJson = MetricsJson[number];

/**
 * Puts the document workers' metrics in the main thread's registry, so that
 * one scrape shows the whole process: for each metric of {@link HostMetrics}
 * a stand-in whose value is the sum over the workers (prom-client's
 * `AggregatorRegistry.aggregate` adds up counters, histograms and gauges).
 * The stand-ins of one scrape share one round trip to the workers.
 */
export function relayWorkerMetrics(registry: Registry, pool: WorkerPool): void {
  let gathering: Promise<{ byName: Map<string, MetricJson>; stale: number }> | undefined;
  // prom-client asks every metric of a scrape at once, before any answer comes.
  const gather = () =>
    (gathering ??= gatherFrom(pool).finally(() => {
      gathering = undefined;
    }));
  for (const { name, help, type } of HostMetrics.describe()) {
    const relay = {
      name,
      help,
      type,
      aggregator: 'sum',
      async get() {
        const found = (await gather()).byName.get(name);
        // `relay.name`: an OpenMetrics registry renames counters (drops `_total`) and expects its own name back.
        return { name: relay.name, help, type, aggregator: 'sum', values: found?.values ?? [] };
      },
      reset() {},
    };
    registry.registerMetric(relay as unknown as Metric);
  }
  new Gauge({
    name: 'quire_metrics_stale_workers',
    help: `Document workers that did not answer this scrape within ${WORKER_METRICS_TIMEOUT_MS} ms (a long reducer holds the thread, or the worker is restarting): their figures are from their last answer.`,
    registers: [registry],
    async collect() {
      this.set((await gather()).stale);
    },
  });
}

async function gatherFrom(pool: WorkerPool): Promise<{ byName: Map<string, MetricJson>; stale: number }> {
  const { metrics, stale } = await pool.metrics(WORKER_METRICS_TIMEOUT_MS);
  const sums = await AggregatorRegistry.aggregate(metrics).getMetricsAsJSON();
  return { byName: new Map(sums.map((metric) => [metric.name, metric])), stale };
}
