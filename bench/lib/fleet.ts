import { type Child, startChild } from './children.js';
import { wallClock } from './setup.js';

/** Many clients spread over child processes (processes/clients.ts). */
export interface Fleet {
  readonly size: number;
  /** The documents of each process's clients, in the order `collect` reports them. */
  readonly shares: readonly string[][];
  /** How long opening all of them took, in ms. */
  readonly openMs: number;
  /** Bound on the error of cross-process times: half the largest of the shortest IPC round trips, in ms. */
  readonly clockErrorMs: number;
  /** Sends a request to every client process; their answers, in process order. */
  all<T>(type: string, args?: unknown, timeoutMs?: number): Promise<T[]>;
  /**
   * The given clients (per process, indexes into its share) each add todo
   * `i` with id prefix `tag`; when each began, on this process's wall clock.
   */
  write(clients: number[][], i: number, tag: string): Promise<number[][]>;
  /** From now on, record when each client sees at least `count` todos. */
  arm(count: number): Promise<void>;
  /** Waits until every client saw the armed count; when each did, on this process's wall clock. */
  collect(timeoutMs?: number): Promise<number[]>;
  close(): Promise<void>;
}

export interface FleetOptions {
  kind: 'quire' | 'yjs';
  url: string;
  /** One client per entry: the document it opens. */
  docs: string[];
  processes: number;
  /** Subscribe each client to the todo count (for arm/collect). */
  watch: boolean;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const perProcess = Math.ceil(options.docs.length / options.processes);
  // One socket per client, and room for the rest of the process.
  const fdLimit = perProcess > 512 ? perProcess + 512 : undefined;
  const children = await Promise.all(Array.from({ length: options.processes }, () => startChild('clients.ts', [], fdLimit === undefined ? {} : { fdLimit })));
  try {
    const clocks = await Promise.all(children.map(clockOffset));
    const offsets = clocks.map((c) => c.offset);
    const shares = children.map((_, i) => options.docs.filter((_, k) => k % children.length === i));
    const openMs = Math.max(
      ...(await Promise.all(
        children.map((child, i) =>
          child.request<number>('open', { kind: options.kind, url: options.url, docs: shares[i], watch: options.watch, concurrency: 25 }, 600_000),
        ),
      )),
    );
    return {
      size: options.docs.length,
      shares,
      openMs,
      clockErrorMs: Math.max(...clocks.map((c) => c.rtt / 2)),
      all: <T>(type: string, args?: unknown, timeoutMs?: number) => Promise.all(children.map((child) => child.request<T>(type, args, timeoutMs))),
      async write(clients, i, tag) {
        const times = await Promise.all(children.map((child, p) => child.request<number[]>('write', { clients: clients[p] ?? [], i, tag })));
        return times.map((ts, p) => ts.map((t) => t - offsets[p]!));
      },
      async arm(count) {
        await Promise.all(children.map((child) => child.request('arm', { count })));
      },
      async collect(timeoutMs = 60_000) {
        const times = await Promise.all(children.map((child) => child.request<number[]>('collect', { timeoutMs }, timeoutMs + 5000)));
        return times.flatMap((ts, i) => ts.map((t) => t - offsets[i]!));
      },
      async close() {
        await Promise.all(children.map((child) => child.request('close', undefined, 60_000).catch(() => undefined)));
        await Promise.all(children.map((child) => child.stop()));
      },
    };
  } catch (error) {
    await Promise.all(children.map((child) => child.stop()));
    throw error;
  }
}

/**
 * The child's wall clock minus ours. Both read the same system clock, but
 * each process fixes its timeOrigin at start; the exchange with the
 * shortest round trip bounds the error by half of it.
 */
async function clockOffset(child: Child): Promise<{ offset: number; rtt: number }> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 20; i++) {
    const sent = wallClock();
    const theirs = await child.request<number>('clock');
    const back = wallClock();
    if (back - sent < best.rtt) best = { rtt: back - sent, offset: theirs - (sent + back) / 2 };
  }
  return best;
}
