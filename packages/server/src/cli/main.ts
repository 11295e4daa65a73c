import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { createSyncServer } from '../sync-server.js';
import { loadReducers } from './load-reducers.js';

const USAGE = `Usage: quire serve --reducers <file> [--data <dir>] [--port <n>] [--host <addr>]

Starts a Quire sync server.

  -r, --reducers <file>  module exporting defineReducers(...) (TypeScript or JavaScript)
  -d, --data <dir>       where documents are stored (default ./data)
  -p, --port <n>         port to listen on (default 8787; 0 picks a free one)
      --host <addr>      address to bind (default 127.0.0.1)
  -h, --help             show this help
`;

/** Runs the CLI. Returns the process exit code, or never returns while serving. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        reducers: { type: 'string', short: 'r' },
        data: { type: 'string', short: 'd', default: './data' },
        port: { type: 'string', short: 'p', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`quire: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    process.stderr.write(`quire: expected the command "serve"${positionals[0] ? `, got "${positionals.join(' ')}"` : ''}\n\n${USAGE}`);
    return 2;
  }
  if (!values.reducers) {
    process.stderr.write(`quire: --reducers is required\n\n${USAGE}`);
    return 2;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`quire: --port must be an integer from 0 to 65535, got "${values.port}"\n`);
    return 2;
  }
  const dataDir = resolve(values.data);
  const reducers = await loadReducers(values.reducers);
  const server = createSyncServer({ reducers, dataDir });
  const { url } = await server.listen(port, values.host);
  const names = Object.keys(reducers.definitions);
  process.stdout.write(`quire: ${names.length} reducers (${names.join(', ')}) from ${resolve(values.reducers)}\nquire: documents in ${dataDir}\nquire: listening on ${url}\n`);
  const stop = async (signal: string) => {
    process.stdout.write(`quire: ${signal}, closing documents…\n`);
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return new Promise<number>(() => {});
}
