import { createClient } from '@quire/core';
import { type Catalog, catalogReducers, sku } from '../lib/catalog.js';
import { type BenchResult, result } from '../lib/result.js';
import { type ServerChild, startQuireServer } from '../lib/servers.js';
import { percentile, ready } from '../lib/setup.js';

export interface PartialOptions {
  /** Rows of the large document (the target is ≥ 1,000,000, ≥ 200 MB). */
  bigRows: number;
  /** Rows of the 10 MB document the open time is compared with. */
  smallRows: number;
  /** Cold clients per measurement; the median is reported. */
  samples: number;
  pointQueries: number;
  log: (line: string) => void;
}

/**
 * Partial replicas on a large document, with prefetch on and off: what a
 * cold client fetches for its first key lookup and for 1,000-row scans of an
 * index and of the table, how long a cold open takes to the first row (10 MB against the large
 * document), and how much of the document 1,000 random lookups pull in.
 */
export async function partialReplica(options: PartialOptions): Promise<BenchResult[]> {
  const server = await startQuireServer('catalog');
  const url = server.url;
  const clients: Catalog[] = [];
  const open = async (docId: string, prefetch: boolean) => {
    const client = createClient({ url, docId, reducers: catalogReducers, partial: true, prefetch });
    clients.push(client);
    return client;
  };
  const closeAll = async () => Promise.all(clients.splice(0).map((c) => c.close()));
  try {
    const bigPages = await build(server, 'big', options.bigRows, options.log);
    const smallPages = await build(server, 'small', options.smallRows, options.log);
    options.log(`documents: big ${options.bigRows} rows, ${mb(bigPages)} MB; small ${options.smallRows} rows, ${mb(smallPages)} MB`);

    const out: BenchResult[] = [];
    const measure = async (prefetch: boolean) => {
      const suffix = prefetch ? '' : '_noprefetch';
      const point: { pages: number; trips: number }[] = [];
      const scan: number[] = [];
      const rowidScan: number[] = [];
      const openBig: number[] = [];
      const openSmall: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        const id = 1 + ((i * 7_654_321) % options.bigRows);
        const a = await open('big', prefetch);
        await ready(a);
        const lookup = await a.measureQuery('SELECT * FROM items WHERE id = ?', [id]);
        point.push({ pages: lookup.stats.pagesFetched, trips: lookup.stats.roundTrips });
        const b = await open('big', prefetch);
        await ready(b);
        const range = await b.measureQuery('SELECT id, sku FROM items WHERE sku >= ? ORDER BY sku LIMIT 1000', [sku(id)]);
        if (range.rows.length !== 1000) throw new Error(`the scan returned ${range.rows.length} rows`);
        scan.push(range.stats.roundTrips);
        const c = await open('big', prefetch);
        await ready(c);
        const start = Math.min(id, options.bigRows - 1000);
        const rowids = await c.measureQuery('SELECT id, price FROM items WHERE id BETWEEN ? AND ?', [start, start + 999]);
        if (rowids.rows.length !== 1000) throw new Error(`the rowid scan returned ${rowids.rows.length} rows`);
        rowidScan.push(rowids.stats.roundTrips);
        await closeAll();
      }
      // Opens are a few ms: many samples, the two sizes interleaved and taking
      // turns going first, so noise and warm-up hit both alike.
      for (let i = 0; i < options.samples * 4; i++) {
        const id = 1 + ((i * 7_654_321) % options.smallRows);
        const big = () => coldOpen(() => open('big', prefetch), id).then((ms) => openBig.push(ms));
        const small = () => coldOpen(() => open('small', prefetch), id).then((ms) => openSmall.push(ms));
        if (i % 2 === 0) await big().then(small);
        else await small().then(big);
        await closeAll();
      }
      const median = (xs: number[]) => percentile(xs, 50);
      out.push(result(`partial_point_pages${suffix}`, median(point.map((p) => p.pages)), 'pages'));
      out.push(result(`partial_point_round_trips${suffix}`, median(point.map((p) => p.trips)), 'round trips'));
      out.push(result(`partial_scan_round_trips${suffix}`, median(scan), 'round trips'));
      // Also a range of the table itself: ~50 leaves of whole rows.
      out.push(result(`partial_rowid_scan_round_trips${suffix}`, median(rowidScan), 'round trips'));
      out.push(result(`partial_open_ms_10mb${suffix}`, median(openSmall), 'ms'));
      out.push(result(`partial_open_ms_200mb${suffix}`, median(openBig), 'ms', median(openSmall)));

      const c = await open('big', prefetch);
      await ready(c);
      let fetched = await c.inspect((db) => db.pages.baseImage().pages.size);
      for (let q = 0; q < options.pointQueries; q++) {
        const { stats } = await c.measureQuery('SELECT * FROM items WHERE id = ?', [1 + ((q * 2_654_435_761) % options.bigRows)]);
        fetched += stats.pagesFetched;
      }
      out.push(result(`partial_bytes_fraction_1000_queries${suffix}`, fetched / bigPages, 'fraction'));
      await closeAll();
    };
    options.log('partial replicas, prefetch on…');
    await measure(true);
    options.log('partial replicas, prefetch off…');
    await measure(false);
    return out;
  } finally {
    await closeAll();
    await server.stop();
  }
}

/** Fills a document from the server side, 20,000 rows per commit; its size in pages. */
async function build(server: ServerChild, docId: string, rows: number, log: (line: string) => void): Promise<number> {
  const writer = createClient({ url: server.url, docId, reducers: catalogReducers, partial: true });
  await writer.mutate.init().server;
  await writer.close();
  const batch = 20_000;
  for (let from = 1; from <= rows; from += batch) {
    await server.request('fill', { docId, from, count: Math.min(batch, rows - from + 1) });
    if ((from - 1) % 200_000 === 0) log(`  ${docId}: ${from - 1 + Math.min(batch, rows - from + 1)} / ${rows} rows`);
  }
  return server.request<number>('pageCount', { docId });
}

/** createClient to the first row of a key lookup, in ms. */
async function coldOpen(open: () => Promise<Catalog>, id: number): Promise<number> {
  const start = performance.now();
  const client = await open();
  await ready(client);
  const rows = await client.query('SELECT * FROM items WHERE id = ?', [id]);
  if (rows.length !== 1) throw new Error(`no row ${id}`);
  return performance.now() - start;
}

function mb(pages: number): number {
  return Math.round((pages * 4096) / 1e5) / 10;
}
