// A Quire sync server in its own process, for the bench:
//   node --import tsx processes/quire-server.ts --reducers todo|catalog --data <dir>
// Prints `port <n>`, then answers IPC requests (see lib/serve.ts).
import { parseArgs } from 'node:util';
import { createSyncServer } from '@quire/server';
import { catalogReducers } from '../lib/catalog.js';
import { serveRequests } from '../lib/serve.js';
import { todoReducers } from '../lib/setup.js';

const { values } = parseArgs({ options: { reducers: { type: 'string', default: 'todo' }, data: { type: 'string' } } });
if (!values.data) throw new Error('--data <dir> is required');

if (values.reducers === 'catalog') {
  const server = createSyncServer({ reducers: catalogReducers, dataDir: values.data });
  const { port } = await server.listen(0, '127.0.0.1');
  serveRequests(
    {
      fill: ({ docId, from, count }: { docId: string; from: number; count: number }) => server.mutate(docId, 'fill', { from, count }),
      pageCount: async ({ docId }: { docId: string }) => (await server.snapshot(docId)).pageCount,
    },
    () => server.close(),
  );
  process.stdout.write(`port ${port}\n`);
} else {
  const server = createSyncServer({ reducers: todoReducers, dataDir: values.data });
  const { port } = await server.listen(0, '127.0.0.1');
  serveRequests(
    {
      // init, then the rows in commits of up to 1,000.
      seed: async ({ docId, todos }: { docId: string; todos: Array<{ id: string; title: string }> }) => {
        await server.mutate(docId, 'init', undefined);
        let lsn = 0;
        for (let i = 0; i < todos.length; i += 1000) lsn = (await server.mutate(docId, 'addTodos', { todos: todos.slice(i, i + 1000) })).lsn;
        return lsn;
      },
    },
    () => server.close(),
  );
  process.stdout.write(`port ${port}\n`);
}
