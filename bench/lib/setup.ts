import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, defineReducers, type QuireClient } from '@quire/core';
import { createSyncServer } from '@quire/server';

export const todoReducers = defineReducers({
  init: (tx) => tx.exec('CREATE TABLE IF NOT EXISTS todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0)') && undefined,
  addTodo: (tx, { id, title }: { id: string; title: string }) => {
    tx.exec('INSERT INTO todos (id, title) VALUES (?, ?)', [id, title]);
  },
  toggle: (tx, { id }: { id: string }) => {
    tx.exec('UPDATE todos SET completed = 1 - completed WHERE id = ?', [id]);
  },
});

export type BenchClient = QuireClient<typeof todoReducers>;

/** A sync server in this process on a fresh data dir. */
export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'quire-bench-'));
  const server = createSyncServer({ reducers: todoReducers, dataDir });
  const { port, url } = await server.listen(0);
  return {
    port,
    url,
    client: (docId: string, via = url) => createClient({ url: via, docId, reducers: todoReducers }),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function settled(client: BenchClient): Promise<void> {
  while (client.status().pending > 0 || client.status().connection !== 'connected') await new Promise((r) => setTimeout(r, 5));
}
