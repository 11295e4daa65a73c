import { type BenchResult, result } from '../lib/result.js';
import { startQuireServer, startYjsServer, withServer } from '../lib/servers.js';
import { STEADY_HEAP, serverRssDelta, WARM_DOC } from '../lib/server-rss.js';

const CONNECTIONS = 1000;

/**
 * 1,000 idle connections to one small document, already open: server RSS
 * delta per connection. Real clients (full createClient / WebsocketProvider, the whole
 * handshake and initial sync) in child processes. Yjs is the baseline.
 */
export async function serverRssPerConn(log: (line: string) => void): Promise<BenchResult[]> {
  const options = { docs: Array(CONNECTIONS).fill(WARM_DOC), processes: 2, todos: 5, log };
  const quire = await withServer(() => startQuireServer('todo', STEADY_HEAP), (server) => serverRssDelta(server, 'quire', options));
  const yjs = await withServer(() => startYjsServer(STEADY_HEAP), (server) => serverRssDelta(server, 'yjs', options));
  return [result('server_rss_per_conn_kb', quire / CONNECTIONS / 1024, 'KB', yjs / CONNECTIONS / 1024)];
}
