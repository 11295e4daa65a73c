import { readdirSync } from 'node:fs';
import type { Reply, Request } from './children.js';

type Handler = (args: never) => unknown;

/** process.memoryUsage() after a full GC when the process runs with --expose-gc. */
export async function measuredMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Two passes with a turn of the event loop between them: the first one
    // only queues some finalizers.
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return process.memoryUsage();
}

/**
 * The child side of ./children.ts: answers IPC requests with `handlers`, and
 * runs `shutdown` then exits when asked to stop or when the bench goes away.
 */
export function serveRequests(handlers: Record<string, Handler>, shutdown: () => Promise<void>): void {
  const builtIn: Record<string, Handler> = {
    rss: async () => (await measuredMemory()).rss,
    memory: () => measuredMemory(),
    cpu: () => process.cpuUsage(),
    // Open file descriptors (Linux; null elsewhere).
    fds: () => {
      try {
        return readdirSync('/proc/self/fd').length;
      } catch {
        return null;
      }
    },
    clock: () => performance.timeOrigin + performance.now(),
  };
  const all = { ...builtIn, ...handlers };
  process.on('message', (request: Request) => {
    const reply = (r: Reply) => process.send?.(r);
    const handler = all[request.type];
    if (!handler) return reply({ id: request.id, ok: false, error: `unknown request ${request.type}` });
    Promise.resolve()
      .then(() => handler(request.args as never))
      .then(
        (value) => reply({ id: request.id, ok: true, value }),
        (error: unknown) => reply({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A shutdown that hangs must not keep the process (and its port) alive.
    setTimeout(() => process.exit(1), 4000).unref();
    shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}
