import { pino, type Logger } from 'pino';
import { readableLine } from './readable-log.js';

/** A pino logger: pass your app's own to `createSyncServer({ logger })`. */
export type { Logger } from 'pino';

/**
 * The logger a sync server uses when the app passes none: warnings and
 * errors (a document that stopped, a reducer over its time limit) to stderr,
 * as JSON lines. A library must not hide those, nor fill an app's stdout
 * with its connection chatter: pass a logger at `info` to see everything.
 */
export function defaultLogger(): Logger {
  return pino({ level: 'warn', base: { name: 'quire' } }, pino.destination({ dest: 2, sync: true }));
}


/**
 * The logger the `quire` CLI and the todo demo use: readable lines on a
 * terminal, JSON lines otherwise (for files and log collectors), on stdout.
 * An app with its own pino logger passes that to `createSyncServer` instead.
 *
 * @example
 * createSyncServer({ reducers, dataDir, logger: createLogger({ level: 'debug' }) });
 */
export function createLogger(options: { level?: string; json?: boolean } = {}): Logger {
  const level = options.level ?? 'info';
  if (options.json ?? !process.stdout.isTTY) return pino({ level, base: { name: 'quire' } }, pino.destination({ dest: 1, sync: true }));
  return pino({ level, base: null }, { write: (line: string) => void process.stdout.write(readableLine(line)) });
}
