import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type QuireClient, type Reducers, type ReplicaStore } from '@quire/core';
import { createSyncServer, type SyncServer, type SyncServerOptions } from '@quire/server';
import { waitFor } from './wait-for.js';

export interface ClientOptions {
  docId?: string;
  clientId?: string;
  userId?: string;
  params?: Record<string, string>;
  partial?: boolean;
  cacheSize?: number;
  store?: ReplicaStore;
  offline?: boolean;
}

export interface Harness<R extends Reducers> {
  /** The running server (a new one after {@link Harness.restart}). */
  readonly server: SyncServer<R>;
  url: string;
  dataDir: string;
  client(options?: ClientOptions): QuireClient<R>;
  /** Closes the server and starts a new one on the same dataDir and port; clients reconnect to it. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A real sync server on 127.0.0.1 with a fresh data directory, and real clients. */
export async function startHarness<R extends Reducers>(
  reducers: R,
  options: Partial<SyncServerOptions<R>> = {},
): Promise<Harness<R>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-it-'));
  let server = createSyncServer({ reducers, dataDir, ...options });
  const { url, port } = await server.listen(0);
  const clients: QuireClient<R>[] = [];
  return {
    get server() {
      return server;
    },
    url,
    dataDir,
    client(opts = {}) {
      const client = createClient({
        url,
        docId: opts.docId ?? 'doc',
        reducers,
        reconnect: { minDelayMs: 10, maxDelayMs: 200 },
        ...(opts.clientId ? { clientId: opts.clientId } : {}),
        ...(opts.userId ? { userId: opts.userId } : {}),
        ...(opts.params ? { params: opts.params } : {}),
        ...(opts.partial ? { partial: true } : {}),
        ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}),
        ...(opts.store ? { store: opts.store } : {}),
        ...(opts.offline ? { offline: true } : {}),
      });
      clients.push(client);
      return client;
    },
    async restart() {
      await server.close();
      server = createSyncServer({ reducers, dataDir, ...options });
      await server.listen(port);
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the client is connected and its base has reached `lsn`. */
export async function waitForLsn<R extends Reducers>(client: QuireClient<R>, lsn: number): Promise<void> {
  await waitFor(() => client.status().lsn >= lsn, `client ${client.clientId} to reach LSN ${lsn} (at ${client.status().lsn})`);
}

/** Waits until the client has nothing pending and its durable base is at the server's (durable) LSN. */
export async function waitForSettled<R extends Reducers>(client: QuireClient<R>, server: SyncServer<R>, docId = 'doc'): Promise<void> {
  await waitFor(async () => {
    const { lsn } = await server.snapshot(docId);
    const status = client.status();
    return status.pending === 0 && status.lsn === lsn && status.durableLsn === lsn;
  }, `client ${client.clientId} to settle (status ${JSON.stringify(client.status())})`);
}

/**
 * Asserts the client's base is byte-identical, page for page, to the
 * server's document. Returns the number of pages compared.
 */
export async function expectSamePages<R extends Reducers>(client: QuireClient<R>, server: SyncServer<R>, docId = 'doc'): Promise<number> {
  const snapshot = await server.snapshot(docId);
  const mismatches = await client.inspect((replica) => {
    const base = replica.pages.baseImage();
    const out: string[] = [];
    if (base.lsn !== snapshot.lsn) out.push(`lsn ${base.lsn} != server ${snapshot.lsn}`);
    if (base.pageCount !== snapshot.pageCount) out.push(`pageCount ${base.pageCount} != server ${snapshot.pageCount}`);
    for (const { pgno, data } of snapshot.pages) {
      const mine = base.pages.get(pgno);
      if (!mine || Buffer.compare(Buffer.from(mine), Buffer.from(data)) !== 0) out.push(`page ${pgno} differs`);
    }
    if (replica.pages.overlayPages().length > 0) out.push(`overlay still has ${replica.pages.overlayPages().length} pages`);
    return out;
  });
  if (mismatches.length > 0) throw new Error(`client ${client.clientId} differs from the server: ${mismatches.slice(0, 10).join('; ')}`);
  return snapshot.pageCount;
}
