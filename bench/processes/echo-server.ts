// A bare WebSocket echo server in its own process: the round-trip floor the
// confirm latency is compared with. Prints `port <n>`.
import { WebSocketServer } from 'ws';
import { serveRequests } from '../lib/serve.js';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
await new Promise((resolve) => wss.once('listening', resolve));
serveRequests({}, () => {
  for (const ws of wss.clients) ws.terminate();
  return new Promise<void>((resolve) => wss.close(() => resolve()));
});
process.stdout.write(`port ${(wss.address() as { port: number }).port}\n`);
