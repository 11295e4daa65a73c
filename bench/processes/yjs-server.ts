// The peer: @y/websocket-server's setupWSConnection on a plain `ws` server,
// in its own process. Prints `port <n>`, then answers IPC requests (see lib/serve.ts).
import { createServer } from 'node:http';
import { docs, getYDoc, setupWSConnection } from '@y/websocket-server/utils';
import { WebSocketServer } from 'ws';
import { serveRequests } from '../lib/serve.js';
import { addTodos, todosOf } from '../lib/yjs.js';

const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('okay'));
const wss = new WebSocketServer({ noServer: true });
wss.on('connection', setupWSConnection);
http.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

serveRequests(
  {
    // The same rows Quire's server-side seed makes, in one transaction on the server's copy.
    seed: ({ docId, todos }: { docId: string; todos: Array<{ id: string; title: string }> }) => {
      const doc = getYDoc(docId);
      addTodos(doc, todos);
      return todosOf(doc).size;
    },
    docs: () => docs.size,
  },
  async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  },
);
process.stdout.write(`port ${(http.address() as { port: number }).port}\n`);
