import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, startYjsServer, withServer } from '../lib/servers.js';
import { STEADY_HEAP, serverRssDelta } from '../lib/server-rss.js';

const DOCS = 200;
/** Each document: the todo table with five todos, the same on both sides. */
const TODOS = 5;

/** 200 small documents open, one client each: server RSS after minus before, per document. Yjs is the baseline. */
export async function serverRssPerDoc(log: (line: string) => void): Promise<BenchResult[]> {
  const docs = Array.from({ length: DOCS }, (_, i) => `doc-${i}`);
  const options = { docs, processes: 1, todos: TODOS, log };
  const quire = await withServer(() => startQuireServer('todo', STEADY_HEAP), (server) => serverRssDelta(server, 'quire', options));
  const yjs = await withServer(() => startYjsServer(STEADY_HEAP), (server) => serverRssDelta(server, 'yjs', options));
  return [result('server_rss_per_doc_kb', quire / DOCS / 1024, 'KB', yjs / DOCS / 1024)];
}
