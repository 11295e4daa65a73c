import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import { createLogger } from '../logger.js';
import type { S3LogOptions } from '../log/s3/s3-log-options.js';
import { createSyncServer } from '../sync-server.js';
import { QuireError } from '@quire/core';
import { appVersionOf, migrationsOf } from '@quire/core/internal';
import { runBackupCommand } from './backup-command.js';
import { BucketSource } from './bucket-source.js';
import { compact } from './compact.js';
import { DataDirectorySource } from './data-directory-source.js';
import { didYouMean } from './did-you-mean.js';
import { BACKING_UP_A_BUCKET } from './document-folders.js';
import { stopOnSignals } from './graceful-stop.js';
import { inspect, inspectBucket } from './inspect.js';
import { loadReducers } from './load-reducers.js';
import { migrate } from './migrate.js';

const USAGE = `Usage: quire serve --reducers <file> [--data <dir>] [--port <n>] [--host <addr>] [--workers <n>] [--s3-bucket <name> ...]
       quire inspect [--json] <dataDir> [docId]
       quire inspect [--json] --s3-bucket <name> [--s3-endpoint <url>] [--s3-prefix <p>] [docId]
       quire compact <dataDir> [docId] [--retain-commits <n>]
       quire migrate --reducers <file> <dataDir> [docId]
       quire migrate --reducers <file> --s3-bucket <name> [--s3-endpoint <url>] [--s3-prefix <p>]
                     [--data <cacheDir>] [docId]
       quire backup <dataDir> <dest> [docId]
       quire restore <backup> <dataDir> [docId]

serve    starts a Quire sync server. It answers GET /healthz with {"ok":true,...}
         (503 with "draining" once SIGTERM or SIGINT made it drain), and GET
         /metrics with Prometheus metrics (see docs/OPERATIONS.md).
inspect  shows each document's LSN, size, log size, schema version, checkpoints,
         clients and recent rejections (read-only; safe while a server runs);
         with --s3-bucket, of the documents in the bucket; --json for tools
compact  writes a log checkpoint of each document and removes the commits
         before the retention window; refuses documents a server has open
migrate  runs the app's migrations each document lacks (as the server does when
         it opens one), so none waits for its first client; progress on stderr,
         a summary on stdout; exit 1 if a document failed or was skipped (a
         server has it open; in a bucket, a live cluster node holds its lease).
         Stopped (Ctrl-C, kill) and run again, it finishes the rest. With
         --s3-bucket it migrates the documents in the bucket, through a local
         cache (--data, default a temporary directory); see docs/MIGRATIONS.md
backup   copies each document's commit log into <dest> (a new or empty folder), safe
         while a server runs; prints each document's LSN; see docs/OPERATIONS.md
restore  puts a backup's documents into a data directory that does not have them,
         each at the LSN the backup printed; a server rebuilds their databases

  -r, --reducers <file>    module exporting defineApp(...) or defineReducers(...) (TypeScript
                           or JavaScript)
  -d, --data <dir>         where documents are stored (default ./data); with --s3-bucket, a
                           cache of their databases (migrate: default a temporary directory)
  -p, --port <n>           port to listen on (default 8787; 0 picks a free one)
      --host <addr>        address to bind (default 127.0.0.1)
      --workers <n>        serve documents on n worker threads, each document on one of them
                           (default: one per core, here ${availableParallelism()}); 1 serves everything
                           in the main thread. Not with --s3-bucket yet (it takes 1 there)
      --log-level <level>  debug, info, warn or error (default info)
      --log-json           log JSON lines even on a terminal (the default elsewhere)
      --s3-bucket <name>   keep commit logs in this S3 bucket instead of --data (which still
                           holds each document's database); credentials come from
                           AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws), the
                           region from AWS_REGION (default us-east-1); see docs/STORAGE.md
      --s3-endpoint <url>  an S3-compatible store other than AWS S3, such as
                           http://127.0.0.1:7480 (path-style URLs)
      --s3-prefix <p>      put every key under this prefix (default: none)
      --retain-commits <n> compact: commits kept behind the checkpoint (default 1024)
      --json               inspect: print one JSON document instead
      --cluster            one of several nodes over the bucket (needs --s3-bucket): each
                           document is coordinated by one node at a time, others relay its
                           clients there, and another node takes over when that one dies
      --advertise-url <u>  where other nodes reach this one (default: the URL it listens on)
      --node-id <id>       this node's name in leases and logs (default: random)
      --lease-ttl-ms <n>   how long a dead node keeps its documents (default 10000)
      --drain-timeout-ms <n>  on SIGTERM or SIGINT the server drains (queued mutations made
                           durable, documents closed, clients told to reconnect) and exits 0;
                           after this long, or at a second signal, it exits 1 at once (safe:
                           documents open from their logs) (default 25000)
      --ping-interval-ms <n>  how often the server checks that a silent connection is alive
                           (a WebSocket ping); one that does not answer is closed two to
                           three intervals after its last sign of life, and its presence
                           goes. Keep it well above clients' round-trip time and under half
                           a proxy's idle timeout (100 to 3600000; default 2000)
  -v, --version            print the version
  -h, --help               show this help
`;

const OPTIONS = {
  reducers: { type: 'string', short: 'r' },
  data: { type: 'string', short: 'd' },
  port: { type: 'string', short: 'p', default: '8787' },
  host: { type: 'string', default: '127.0.0.1' },
  workers: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  'log-json': { type: 'boolean' },
  json: { type: 'boolean' },
  's3-bucket': { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-prefix': { type: 'string' },
  'retain-commits': { type: 'string' },
  cluster: { type: 'boolean' },
  'advertise-url': { type: 'string' },
  'node-id': { type: 'string' },
  'lease-ttl-ms': { type: 'string' },
  'drain-timeout-ms': { type: 'string', default: '25000' },
  'ping-interval-ms': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

/** This package's version (package.json is two folders up both from src/cli and dist/cli). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Runs the CLI. Returns the process exit code, or never returns while serving. */
export async function main(argv: string[], options: { logger?: Logger } = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    return usageError(parseErrorMessage(error as Error & { code?: string }, argv));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`quire ${version()}\n`);
    return 0;
  }
  if (positionals[0] === 'inspect' || positionals[0] === 'compact') {
    const s3 = s3Options(values);
    if (typeof s3 === 'string') return usageError(s3);
    if (values.json && positionals[0] !== 'inspect') return usageError('--json goes with quire inspect');
    return maintain(positionals[0], positionals.slice(1), values['retain-commits'], s3, values.json === true);
  }
  if (positionals[0] === 'migrate') {
    const s3 = s3Options(values);
    if (typeof s3 === 'string') return usageError(s3);
    return runMigrate(positionals.slice(1), values.reducers, s3, values.data);
  }
  if (positionals[0] === 'backup' || positionals[0] === 'restore') {
    if (values['s3-bucket'] !== undefined || values['s3-endpoint'] !== undefined || values['s3-prefix'] !== undefined) {
      return usageError(`quire ${positionals[0]} works on data directories with file logs, not on a bucket — ${BACKING_UP_A_BUCKET}`);
    }
    return runBackupCommand(positionals[0], positionals.slice(1), usageError);
  }
  if (positionals[0] === 'serve' && positionals.length > 1) {
    return usageError(`quire serve takes no file argument, got "${positionals.slice(1).join(' ')}" — name the app with --reducers ${positionals[1]}`);
  }
  if (positionals[0] !== 'serve') {
    return usageError(`expected the command "serve", "inspect", "compact", "migrate", "backup" or "restore"${positionals[0] ? `, got "${positionals.join(' ')}"` : ''}`);
  }
  if (!values.reducers) return usageError('--reducers is required');
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    process.stderr.write(`quire: --port must be an integer from 0 to 65535, got "${values.port}"\n`);
    return 2;
  }
  if (!LOG_LEVELS.includes(values['log-level'])) {
    process.stderr.write(`quire: --log-level must be one of ${LOG_LEVELS.join(', ')}, got "${values['log-level']}"\n`);
    return 2;
  }
  const s3 = s3Options(values);
  if (typeof s3 === 'string') return usageError(s3);
  const workerFlag = values.workers;
  if (workerFlag !== undefined && (!/^\d+$/.test(workerFlag) || Number(workerFlag) < 1 || Number(workerFlag) > 1024)) {
    return usageError(`--workers must be a whole number from 1 to 1024, got "${workerFlag}"`);
  }
  if (s3 && workerFlag !== undefined && workerFlag !== '1') return usageError('--workers works with file logs only for now: leave it out (or pass --workers 1) with --s3-bucket');
  // One per core by default; with a bucket, one thread until the workers can hold leases.
  const workers = s3 ? 1 : workerFlag !== undefined ? Number(workerFlag) : availableParallelism();
  const clusterFlags = ['advertise-url', 'node-id', 'lease-ttl-ms'] as const;
  if (!values.cluster && clusterFlags.some((flag) => values[flag] !== undefined)) return usageError('--advertise-url, --node-id and --lease-ttl-ms need --cluster');
  if (values.cluster && !s3) return usageError('--cluster needs --s3-bucket: the nodes share documents through the bucket');
  const drainTimeout = values['drain-timeout-ms'];
  if (!/^\d+$/.test(drainTimeout) || Number(drainTimeout) < 1) return usageError(`--drain-timeout-ms must be a whole number of milliseconds above 0, got "${drainTimeout}"`);
  const drainTimeoutMs = Number(drainTimeout);
  const pingInterval = values['ping-interval-ms'];
  // Below 100 ms a live client on a slow network cannot answer in time; above an hour the check is pointless (and setInterval overflows at 2^31 ms).
  if (pingInterval !== undefined && (!/^\d+$/.test(pingInterval) || Number(pingInterval) < 100 || Number(pingInterval) > 3_600_000)) {
    return usageError(`--ping-interval-ms must be a whole number of milliseconds from 100 to 3600000, got "${pingInterval}"`);
  }
  const ttl = values['lease-ttl-ms'];
  if (ttl !== undefined && (!/^\d+$/.test(ttl) || Number(ttl) < 100)) return usageError(`--lease-ttl-ms must be an integer of at least 100, got "${ttl}"`);
  const cluster = values.cluster
    ? {
        ...(values['advertise-url'] !== undefined ? { advertiseUrl: values['advertise-url'] } : {}),
        ...(values['node-id'] !== undefined ? { nodeId: values['node-id'] } : {}),
        ...(ttl !== undefined ? { leaseTtlMs: Number(ttl) } : {}),
      }
    : undefined;
  const logger = options.logger ?? createLogger({ level: values['log-level'], ...(values['log-json'] ? { json: true } : {}) });
  const dataDir = resolve(values.data ?? './data');
  const reducers = await loadReducers(values.reducers);
  const names = Object.keys(reducers.definitions);
  const app = { appVersion: appVersionOf(reducers), migrations: migrationsOf(reducers).length };
  logger.info({ version: version(), file: resolve(values.reducers), ...app }, `${names.length} reducers (${names.join(', ')}) from ${resolve(values.reducers)}, app version ${app.appVersion} with ${app.migrations} migration(s)`);
  if (s3) logger.info({ bucket: s3.bucket, prefix: s3.prefix, endpoint: s3.endpoint }, `commit logs in s3://${s3.bucket}/${s3.prefix ?? ''}${s3.endpoint ? ` at ${s3.endpoint}` : ''}`);
  if (workers > 1) logger.info({ workers }, `serving documents on ${workers} worker threads`);
  const server = createSyncServer({
    reducers,
    dataDir,
    logger,
    ...(s3 ? { s3 } : {}),
    ...(cluster ? { cluster } : {}),
    ...(workers > 1 ? { workers: { module: resolve(values.reducers), count: workers } } : {}),
    ...(pingInterval !== undefined ? { pingIntervalMs: Number(pingInterval) } : {}),
  });
  // The process's CPU, memory, event loop and GC beside Quire's own: the CLI is the whole process (a library leaves that to its app).
  if (server.metricsRegistry) collectDefaultMetrics({ register: server.metricsRegistry });
  try {
    await server.listen(port, values.host);
  } catch (error) {
    await server.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(
        `quire: port ${port} on ${values.host} is already in use — stop the process that holds it, or pick another port with --port <n> (--port 0 picks a free one)\n`,
      );
      return 1;
    }
    throw error;
  }
  stopOnSignals(server, logger, { drainTimeoutMs });
  return new Promise<number>(() => {});
}

/** `quire inspect` and `quire compact`: exit 0, 1 when a document was refused (open in a server) or the bucket cannot be read, 2 on bad arguments. */
async function maintain(command: 'inspect' | 'compact', args: string[], retain: string | undefined, s3: S3LogOptions | undefined, json: boolean): Promise<number> {
  if (s3 && command === 'compact') return usageError('quire compact works on a data directory with file logs; with --s3-bucket, servers compact each document\'s log themselves');
  const [dataDir, docId, ...rest] = s3 ? ['', ...args] : args;
  if ((!s3 && !dataDir) || rest.length > 0) return usageError(`quire ${command} takes <dataDir> [docId]${command === 'inspect' ? ', or --s3-bucket <name> [docId]' : ''}`);
  if (retain !== undefined && (!/^\d+$/.test(retain) || command !== 'compact')) return usageError('--retain-commits takes a whole number, with quire compact');
  const write = (line: string) => void process.stdout.write(`${line}\n`);
  try {
    if (s3) return await inspectBucket(s3, docId, { write, json });
    if (command === 'inspect') return await inspect(resolve(dataDir!), docId, { write, json });
    return await compact(resolve(dataDir!), docId, retain === undefined ? {} : { retainCommits: Number(retain) }, write);
  } catch (error) {
    if (!(error instanceof QuireError)) throw error;
    process.stderr.write(`quire: ${error.message}\n`);
    return 1;
  }
}

/** `quire migrate`: exit 0, 1 when a document failed or was skipped, 2 on bad arguments, 130 when stopped by Ctrl-C. */
async function runMigrate(args: string[], reducersFile: string | undefined, s3: S3LogOptions | undefined, cacheDir: string | undefined): Promise<number> {
  // With a bucket the documents are in the bucket: no data directory to name, and --data is only the cache.
  const [dataDir, docId, ...rest] = s3 ? ['', ...args] : args;
  if (s3 && args.length > 1) return usageError('quire migrate --s3-bucket <name> takes at most a [docId]');
  if ((!s3 && !dataDir) || rest.length > 0) return usageError('quire migrate takes --reducers <file> <dataDir> [docId], or --reducers <file> --s3-bucket <name> [docId]');
  if (!s3 && cacheDir !== undefined) return usageError('quire migrate takes --data only with --s3-bucket (the cache of the documents\' databases); name the data directory as <dataDir>');
  if (!reducersFile) return usageError('quire migrate needs --reducers <file>: the app whose migrations to run');
  const stop = new AbortController();
  const interrupt = () => {
    process.stderr.write('\nquire: stopping after the current document (Ctrl-C again to quit at once; either way, run the command again to finish)\n');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  try {
    const reducers = await loadReducers(reducersFile);
    const source = s3 ? new BucketSource({ s3, docId, cacheDir: cacheDir && resolve(cacheDir) }) : new DataDirectorySource(resolve(dataDir!), docId);
    const code = await migrate(source, reducers, { write: (line) => void process.stdout.write(`${line}\n`), progress: process.stderr, signal: stop.signal });
    return stop.signal.aborted ? 130 : code;
  } catch (error) {
    if (!(error instanceof QuireError)) throw error;
    process.stderr.write(`quire: ${error.message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupt);
  }
}

/** The bucket from the --s3-* flags (undefined: files), or what is wrong with them. */
function s3Options(values: { 's3-bucket'?: string | undefined; 's3-endpoint'?: string | undefined; 's3-prefix'?: string | undefined }): S3LogOptions | undefined | string {
  if (!values['s3-bucket']) return values['s3-endpoint'] !== undefined || values['s3-prefix'] !== undefined ? '--s3-endpoint and --s3-prefix need --s3-bucket' : undefined;
  return {
    bucket: values['s3-bucket'],
    ...(values['s3-prefix'] !== undefined ? { prefix: values['s3-prefix'] } : {}),
    // Self-hosted stores (RGW, MinIO) mostly serve path-style URLs only.
    ...(values['s3-endpoint'] !== undefined ? { endpoint: values['s3-endpoint'], forcePathStyle: true } : {}),
  };
}

/** The one line that says what is wrong; the whole help would bury it. */
function usageError(message: string): number {
  process.stderr.write(`quire: ${message}\nRun "quire --help" for the commands and their options.\n`);
  return 2;
}

/**
 * parseArgs' message, or one line in its place: for an unknown option, with
 * the closest known one; for a value that starts with a dash (`--workers -1`),
 * how to pass it.
 */
function parseErrorMessage(error: Error & { code?: string }, argv: string[]): string {
  const ambiguous = /^Option '(--?[\w-]+)' argument is ambiguous/.exec(error.message);
  if (ambiguous) {
    const given = ambiguous[1]!;
    const value = argv[argv.indexOf(given) + 1] ?? '';
    const short = Object.entries(OPTIONS).find(([, spec]) => 'short' in spec && `-${spec.short}` === given);
    const option = short ? `--${short[0]}` : given;
    return `${option} takes a value, and "${value}" looks like an option — write ${option}=${value} to pass it`;
  }
  if (error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return error.message;
  const option = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  const suggestion = didYouMean(option, Object.keys(OPTIONS));
  return `unknown option ${option}${suggestion ? ` — did you mean ${suggestion}?` : ''}`;
}
