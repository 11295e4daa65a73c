import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { QuireError, type Reducers } from '@quire/core';
import { type Logger, createSyncServer } from '@quire/server';
import { reducers } from '../reducers.js';
import { staticFiles } from './static-files.js';

export interface DemoServerOptions {
  /** Folder with the built app (index.html and assets). */
  staticDir: string;
  /** Where the lists are stored, one folder per list. */
  dataDir: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The sync server's logger. Default: warnings and errors to stderr. */
  logger?: Logger;
  /** The app the sync server runs. Default: the demo's (reducers.ts); tests pass a newer version of it. */
  reducers?: Reducers;
}

export interface DemoServer {
  /** `http://<host>:<port>/` */
  readonly url: string;
  readonly port: number;
  /** Closes the sync connections and the lists, then the HTTP server. */
  close(): Promise<void>;
}

/** The path the app's sync WebSocket connects to. */
export const SYNC_PATH = '/sync';
/** Answers 200 with the sync server's health as JSON (503 while it drains). */
export const HEALTH_PATH = '/healthz';
/** Answers the sync server's Prometheus metrics (see docs/OPERATIONS.md#metrics). */
export const METRICS_PATH = '/metrics';

/** Serves the todo app and its Quire sync endpoint on one HTTP port. */
export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  if (!existsSync(join(options.staticDir, 'index.html'))) {
    throw new QuireError(
      'demo_not_built',
      `no built app in ${options.staticDir} — run \`pnpm -C apps/todo-demo build\` (or \`pnpm start\` at the repo root) first`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  const serveStatic = staticFiles(options.staticDir);
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === SYNC_PATH) {
      res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8' }).end('Quire sync endpoint: connect with a WebSocket\n');
      return;
    }
    if (path === HEALTH_PATH) {
      const health = sync.health();
      // 503 while the sync server drains (close()), so a load balancer stops sending clients here.
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(health));
      return;
    }
    if (path === METRICS_PATH && sync.metricsRegistry) {
      const registry = sync.metricsRegistry;
      void registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('could not collect the metrics\n'),
      );
      return;
    }
    serveStatic(req, res);
  });
  const sync = createSyncServer({ reducers: options.reducers ?? reducers, dataDir: options.dataDir, path: SYNC_PATH, ...(options.logger ? { logger: options.logger } : {}) });
  sync.attach(http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8787);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        await sync.close();
        http.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}
