// A fleet of clients in its own process, so that 1,000 of them can spread
// over cores: Quire clients (each with its own sqlite-wasm replica) or Yjs
// providers. Prints `ready`, then answers IPC requests from lib/fleet.ts.
import { serveRequests } from '../lib/serve.js';
import { type BenchClient, quireClient, ready, todoId, todoTitle, wallClock } from '../lib/setup.js';
import { addTodo, type YjsClient, yjsClient } from '../lib/yjs.js';

// y-websocket adds a process 'exit' listener per provider.
process.setMaxListeners(0);

interface Entry {
  /** The Quire client, for the load commands. */
  quire?: BenchClient;
  /** The Yjs provider, for `write`. */
  yjs?: YjsClient;
  /** Todos the client sees now (watched clients only). */
  count: number;
  /** When count first reached the armed target, on the wall clock. */
  reachedAt: number;
  close(): Promise<void> | void;
}

const clients: Entry[] = [];
let target = Number.POSITIVE_INFINITY;
let missing = 0;
let onAllReached: (() => void) | undefined;
let trickling = false;
let trickled = 0;

function seen(entry: Entry, count: number): void {
  entry.count = count;
  if (entry.reachedAt === 0 && count >= target) {
    entry.reachedAt = wallClock();
    if (--missing === 0) onAllReached?.();
  }
}

async function open(kind: 'quire' | 'yjs', url: string, docId: string, watch: boolean): Promise<Entry> {
  const entry: Entry = { count: 0, reachedAt: 0, close: () => {} };
  if (kind === 'quire') {
    const client = quireClient(url, docId);
    entry.quire = client;
    entry.close = () => client.close();
    await ready(client);
    if (watch) {
      // Subscribed once the snapshot is in: before it, the table does not exist.
      await new Promise<void>((resolve) =>
        client.subscribe<{ n: number }>('SELECT count(*) AS n FROM todos', [], (rows) => {
          seen(entry, rows[0]!.n);
          resolve();
        }),
      );
    }
  } else {
    const client = yjsClient(url, docId);
    entry.yjs = client;
    entry.close = () => client.close();
    await client.synced;
    if (watch) {
      client.todos.observe(() => seen(entry, client.todos.size));
      seen(entry, client.todos.size);
    }
  }
  return entry;
}

serveRequests(
  {
    /** Opens one client per entry of `docs`, `concurrency` at a time; resolves once all are synced. */
    open: async ({ kind, url, docs, watch, concurrency }: { kind: 'quire' | 'yjs'; url: string; docs: string[]; watch: boolean; concurrency: number }) => {
      const start = performance.now();
      for (let i = 0; i < docs.length; i += concurrency) {
        clients.push(...(await Promise.all(docs.slice(i, i + concurrency).map((docId) => open(kind, url, docId, watch)))));
      }
      return performance.now() - start;
    },
    /** Times from now on when each client sees at least `count` todos. */
    arm: ({ count }: { count: number }) => {
      target = count;
      missing = 0;
      for (const entry of clients) {
        entry.reachedAt = 0;
        missing++;
        seen(entry, entry.count);
      }
    },
    /** Waits until every client saw the armed count; the wall-clock time each one did. */
    collect: async ({ timeoutMs }: { timeoutMs: number }) => {
      if (missing > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${missing} of ${clients.length} clients did not see ${target} todos within ${timeoutMs} ms`)), timeoutMs);
          onAllReached = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      onAllReached = undefined;
      target = Number.POSITIVE_INFINITY;
      return clients.map((entry) => entry.reachedAt);
    },
    /** Each Quire client adds `count` todos, never more than `window` unconfirmed; resolves once the server confirmed all. */
    load: async ({ count, window, tag }: { count: number; window: number; tag: string }) => {
      await Promise.all(
        clients.map(async (entry, c) => {
          const inFlight: Promise<unknown>[] = [];
          for (let i = 0; i < count; i++) {
            // The server confirms one client's mutations in order: the oldest settles first.
            if (inFlight.length >= window) await inFlight.shift();
            inFlight.push(entry.quire!.mutate.addTodo({ id: todoId(i, `${tag}${process.pid}-${c}-`), title: todoTitle(i) }).server);
          }
          await Promise.all(inFlight);
        }),
      );
    },
    /** Each Quire client adds a todo every `everyMs` until `stopTrickle`; resolves then. */
    trickle: async ({ everyMs, tag }: { everyMs: number; tag: string }) => {
      trickling = true;
      await Promise.all(
        clients.map(async (entry, c) => {
          for (let i = 0; trickling; i++) {
            entry.quire!.mutate.addTodo({ id: todoId(i, `${tag}${process.pid}-${c}-`), title: todoTitle(i) });
            trickled++;
            await new Promise((resolve) => setTimeout(resolve, everyMs));
          }
        }),
      );
    },
    /** Stops the trickle; how many todos it added. */
    stopTrickle: () => {
      trickling = false;
      return trickled;
    },
    /** The given clients (indexes in open order) each add todo `i`; when each began, on the wall clock. */
    write: ({ clients: indexes, i, tag }: { clients: number[]; i: number; tag: string }) =>
      indexes.map((c) => {
        const entry = clients[c]!;
        const at = wallClock();
        const id = todoId(i, tag);
        if (entry.quire) void entry.quire.mutate.addTodo({ id, title: todoTitle(i) });
        else addTodo(entry.yjs!.doc, id, todoTitle(i));
        return at;
      }),
    /** The highest LSN any of these Quire clients is at. */
    lsn: () => Math.max(0, ...clients.map((entry) => entry.quire?.status().lsn ?? 0)),
    close: async () => {
      await Promise.all(clients.splice(0).map((entry) => entry.close()));
    },
  },
  async () => {
    await Promise.all(clients.splice(0).map((entry) => entry.close()));
  },
);
process.stdout.write('ready\n');
