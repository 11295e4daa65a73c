import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '@quire/server';
import { startDemoServer } from './demo-server.js';

// Two levels below the app folder both as source (src/server) and built (dist/server).
const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repoDir = resolve(appDir, '../..');

const USAGE = `Usage: todo-demo [--port <n>] [--host <addr>] [--data <dir>]
   or, from the repo root: npm start -- --port <n>

Serves the multiplayer TodoMVC, its Quire sync endpoint (/sync) and /healthz.

  --port <n>           port to listen on (default 8787; 0 picks a free one)
  --host <addr>        address to bind (default 127.0.0.1)
  --data <dir>         where lists are stored (default <repo>/.data/todo-demo)
  --log-level <level>  debug, info, warn or error (default info)
  -h, --help           show this help
`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      // `pnpm start -- --port 0` passes the `--` on.
      args: process.argv[2] === '--' ? process.argv.slice(3) : process.argv.slice(2),
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string', default: join(repoDir, '.data', 'todo-demo') },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // `npm start --port 9000` (no `--`): npm takes --port for itself and passes only "9000".
    const hint = /Unexpected argument '\d+'/.test((error as Error).message) ? ' — npm passes options on only after "--": npm start -- --port <n>' : '';
    process.stderr.write(`todo demo: ${(error as Error).message}${hint}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    process.stderr.write(`todo demo: --port must be an integer from 0 to 65535, got "${values.port}"\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: values['log-level'] });
  const server = await startDemoServer({
    staticDir: join(appDir, 'dist', 'public'),
    dataDir: resolve(values.data),
    port,
    host: values.host,
    logger,
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    process.stderr.write(
      `todo demo: port ${port} on ${values.host} is already in use (another todo demo?) — stop it, or pick another port: npm start -- --port <n> (0 picks a free one)\n`,
    );
    process.exit(1);
  });
  process.stdout.write(`todo demo: ${server.url}\n`);
  const stop = () => {
    // A second signal while closing means "now".
    process.once('SIGINT', () => process.exit(130));
    process.once('SIGTERM', () => process.exit(143));
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`todo demo: closing failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`todo demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
