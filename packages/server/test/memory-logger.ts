import { pino, type Logger } from 'pino';

/** One JSON log line, parsed. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A real pino logger that keeps its lines in memory, for tests to read. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** A logger that drops everything: for tests that make errors on purpose. */
export const silentLogger: Logger = pino({ enabled: false });
