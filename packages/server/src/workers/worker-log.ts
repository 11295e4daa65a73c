import { pino } from 'pino';
import type { Logger } from '../logger.js';

/**
 * A document worker logs through the app's logger, which lives in the main
 * thread: the worker's pino writes JSON lines to `post`, and the main thread
 * logs each again with its own logger (`relayLogLine`), fields and all.
 */
export function workerLogger(level: string, post: (line: string) => void): Logger {
  return pino({ level, base: null, timestamp: false }, { write: post });
}

/** Logs a line from `workerLogger` with `logger` (a child that names the worker). */
export function relayLogLine(logger: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.warn({ line }, 'a document worker wrote a log line that is not JSON');
    return;
  }
  const { level, msg, ...fields } = record;
  const label = logger.levels.labels[level as number] ?? 'info';
  const log = (logger as unknown as Record<string, (fields: object, msg?: string) => void>)[label];
  log?.call(logger, fields, typeof msg === 'string' ? msg : undefined);
}
