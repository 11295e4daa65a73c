import { pino, type Logger } from 'pino';

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

