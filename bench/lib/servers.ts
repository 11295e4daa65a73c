import { type Child, removeTempDir, startChild, tempDir } from './children.js';

export interface ServerChild extends Child {
  url: string;
  /** The server process's RSS in bytes, after a full GC. */
  rss(): Promise<number>;
  /** All of process.memoryUsage(), after a full GC. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** CPU time the server process used so far. */
  cpu(): Promise<NodeJS.CpuUsage>;
  /** Puts `init` and these todos in a document, from the server side. */
  seed(docId: string, todos: Array<{ id: string; title: string }>): Promise<unknown>;
}

function serverChild(child: Child, cleanup = async () => {}): ServerChild {
  return {
    ...child,
    url: `ws://127.0.0.1:${child.port}`,
    rss: () => child.request<number>('rss'),
    memory: () => child.request<NodeJS.MemoryUsage>('memory'),
    cpu: () => child.request<NodeJS.CpuUsage>('cpu'),
    seed: (docId, todos) => child.request('seed', { docId, todos }),
    async stop() {
      await child.stop();
      await cleanup();
    },
  };
}

/**
 * A Quire sync server in a child process, on a fresh data dir; with
 * `s3Prefix`, its commit log is on RGW under that prefix (call `rgw()` from
 * lib/rgw.ts first); with `workers` above 1, its documents on that many
 * worker threads.
 */
export async function startQuireServer(reducers: 'todo' | 'catalog' = 'todo', options: { s3Prefix?: string; workers?: number; fdLimit?: number; smallNewSpace?: boolean } = {}): Promise<ServerChild> {
  const dataDir = tempDir('quire-bench-');
  const s3 = options.s3Prefix === undefined ? [] : ['--s3-prefix', options.s3Prefix];
  const workers = options.workers === undefined ? [] : ['--workers', String(options.workers)];
  const child = await startChild('quire-server.ts', ['--reducers', reducers, '--data', dataDir, ...s3, ...workers], { exposeGc: true, smallNewSpace: options.smallNewSpace === true, ...(options.fdLimit !== undefined && { fdLimit: options.fdLimit }) });
  return serverChild(child, async () => removeTempDir(dataDir));
}

/** The Yjs peer (@y/websocket-server) in a child process. */
export async function startYjsServer(options: { fdLimit?: number; smallNewSpace?: boolean } = {}): Promise<ServerChild> {
  return serverChild(await startChild('yjs-server.ts', [], { exposeGc: true, smallNewSpace: options.smallNewSpace === true, ...(options.fdLimit !== undefined && { fdLimit: options.fdLimit }) }));
}

/** A bare WebSocket echo server in a child process. */
export async function startEchoServer(): Promise<ServerChild> {
  return serverChild(await startChild('echo-server.ts'));
}

/** Runs `fn` with a server, and stops the server however `fn` ends. */
export async function withServer<T>(start: () => Promise<ServerChild>, fn: (server: ServerChild) => Promise<T>): Promise<T> {
  const server = await start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
