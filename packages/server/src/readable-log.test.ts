import { expect, test } from 'vitest';
import { readableLine } from './readable-log.js';

test('a JSON log line reads as time, level, message and fields; an error adds its stack', () => {
  const time = Date.UTC(2026, 11, 1, 22, 18, 35, 123);
  expect(readableLine(JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', msg: 'client connected', docId: 'todos', clientId: 'c1', partial: false, note: 'two words' }))).toBe(
    '22:18:35.123 INFO  client connected docId=todos clientId=c1 partial=false note="two words"\n',
  );
  const line = readableLine(JSON.stringify({ level: 50, time, msg: 'document stopped', docId: 'd', err: { type: 'Error', message: 'disk full', stack: 'Error: disk full\n    at x' } }));
  expect(line).toBe('22:18:35.123 ERROR document stopped docId=d err="disk full"\n    Error: disk full\n        at x\n');
  expect(readableLine('not json')).toBe('not json\n');
});
