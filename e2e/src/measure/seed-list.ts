import { createClient } from '@quire/core';
import { reducers } from '../../../apps/todo-demo/src/reducers.js';

/** The demo's sync endpoint for a server origin such as `http://127.0.0.1:4000/`. */
export function syncUrlOf(origin: string): string {
  return new URL('/sync', origin.replace(/^http/, 'ws')).href;
}

/**
 * Fills list `listId` with `count` todos through a Node client running the
 * demo's own reducers (much faster than typing them), and resolves once the
 * server has made all of them durable.
 */
export async function seedList(origin: string, listId: string, count: number): Promise<void> {
  const client = createClient({ url: syncUrlOf(origin), docId: listId, reducers });
  try {
    await client.mutate.init().server;
    const handles = [];
    for (let i = 1; i <= count; i++) handles.push(client.mutate.addTodo({ id: `seed-${i}`, title: `Seeded todo ${i}` }));
    await Promise.all(handles.map((h) => h.server));
  } finally {
    await client.close();
  }
}
