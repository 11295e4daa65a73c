import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, startYjsServer } from '../lib/servers.js';
import { median, quireClient, ready, todoRange } from '../lib/setup.js';
import { readAll, yjsClient } from '../lib/yjs.js';

const TODOS = 10_000;

/**
 * A fresh client opens a list of 10,000 todos and reads every one of them.
 * Quire: createClient until connected at an LSN, then SELECT all rows.
 * Yjs: a new Y.Doc and provider until synced, then every todo read out
 * into plain rows. Both servers run at once and samples alternate, so
 * noise hits both alike.
 */
export async function coldLoad(samples: number): Promise<BenchResult[]> {
  const [quireServer, yjsServer] = await Promise.all([startQuireServer(), startYjsServer()]);
  try {
    const todos = todoRange(0, TODOS);
    await Promise.all([quireServer.seed('cold', todos), yjsServer.seed('cold', todos)]);

    const quire = async () => {
      const start = performance.now();
      const client = quireClient(quireServer.url, 'cold');
      try {
        await ready(client);
        const rows = await client.query('SELECT id, title, completed FROM todos');
        if (rows.length !== TODOS) throw new Error(`Quire read ${rows.length} todos`);
        return performance.now() - start;
      } finally {
        await client.close();
      }
    };
    const yjs = async () => {
      const start = performance.now();
      const client = yjsClient(yjsServer.url, 'cold');
      try {
        await client.synced;
        const rows = readAll(client.doc);
        if (rows.length !== TODOS) throw new Error(`Yjs read ${rows.length} todos`);
        return performance.now() - start;
      } finally {
        client.close();
      }
    };
    const q: number[] = [];
    const y: number[] = [];
    const warmUp = 2;
    for (let i = 0; i < warmUp + samples; i++) {
      // Taking turns going first.
      let qs: number;
      let ys: number;
      if (i % 2 === 0) {
        qs = await quire();
        ys = await yjs();
      } else {
        ys = await yjs();
        qs = await quire();
      }
      if (i >= warmUp) {
        q.push(qs);
        y.push(ys);
      }
    }
    return [result('cold_load_10k_ms', median(q), 'ms', median(y))];
  } finally {
    await Promise.all([quireServer.stop(), yjsServer.stop()]);
  }
}
