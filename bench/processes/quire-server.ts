// A Quire sync server in its own process, for the bench:
//   node --import tsx processes/quire-server.ts --reducers todo|catalog --data <dir> [--s3-prefix <prefix>] [--workers <n>]
// With --s3-prefix the commit log is on RGW (QUIRE_S3_* from the environment, see lib/rgw.ts), bucket quire-bench.
// With --workers n (todo only) documents are served by n worker threads, which load lib/todo-app.ts.
// Prints `port <n>`, then answers IPC requests (see lib/serve.ts).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type S3LogOptions, createSyncServer } from '@quire/server';
import { catalogReducers } from '../lib/catalog.js';
import { serveRequests } from '../lib/serve.js';
import { todoReducers } from '../lib/setup.js';

const { values } = parseArgs({ options: { reducers: { type: 'string', default: 'todo' }, data: { type: 'string' }, 's3-prefix': { type: 'string' }, workers: { type: 'string', default: '1' } } });
if (!values.data) throw new Error('--data <dir> is required');
const s3: S3LogOptions | undefined = values['s3-prefix'] === undefined ? undefined : s3Options(values['s3-prefix']);

function s3Options(prefix: string): S3LogOptions {
  const { QUIRE_S3_ENDPOINT: endpoint, QUIRE_S3_ACCESS_KEY: accessKeyId, QUIRE_S3_SECRET_KEY: secretAccessKey } = process.env;
  if (!endpoint || !accessKeyId || !secretAccessKey) throw new Error('--s3-prefix needs QUIRE_S3_ENDPOINT, QUIRE_S3_ACCESS_KEY and QUIRE_S3_SECRET_KEY');
  return { bucket: 'quire-bench', prefix, endpoint, credentials: { accessKeyId, secretAccessKey }, forcePathStyle: true };
}

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
  const count = Number(values.workers);
  const workers = count > 1 ? { module: fileURLToPath(new URL('../lib/todo-app.ts', import.meta.url)), count } : undefined;
  const server = createSyncServer({ reducers: todoReducers, dataDir: values.data, ...(s3 && { s3 }), ...(workers && { workers }) });
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
