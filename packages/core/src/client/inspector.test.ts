import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { ClientInspection } from './inspection.js';
import { INSPECT_INTERVAL_MS, INSPECT_RING, type InspectionState, Inspector } from './inspector.js';

const state: InspectionState = {
  clientId: 'c',
  docId: 'd',
  connection: 'connected',
  lsn: 0,
  durableLsn: 0,
  pendingCount: 0,
  pending: [],
  pages: { held: 0, total: 0, fetched: 0 },
  received: { frames: 0, bytes: 0 },
};
const mutation = (seq: number) => ({ seq, name: 'add', argsJson: `{"json":{"n":${seq}}}` });

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

test('unwatched, it reads nothing and keeps only errors', () => {
  const read = vi.fn(() => state);
  const inspector = new Inspector(read);
  for (let seq = 1; seq <= 5; seq++) {
    inspector.mutationSettled(mutation(seq), seq, undefined);
    inspector.changed();
  }
  inspector.mutationSettled(mutation(6), 6, { seq: 6, code: 'reducer_error', message: 'no' });
  vi.runAllTimers();
  expect(read).not.toHaveBeenCalled();
  const inspection = inspector.inspection();
  expect(inspection.settled).toEqual([]);
  expect(inspection.errors).toEqual([{ at: expect.any(Number), source: 'rejected', code: 'reducer_error', message: 'add (seq 6): no', count: 1, seq: 6 }]);
});

test('a subscriber hears soon after subscribing, then at most once per interval however many changes come', () => {
  const inspector = new Inspector(() => state);
  const heard: ClientInspection[] = [];
  const stop = inspector.subscribe((i) => heard.push(i));
  expect(heard).toHaveLength(0);
  vi.advanceTimersByTime(0);
  expect(heard).toHaveLength(1);
  for (let seq = 1; seq <= 30; seq++) inspector.mutationSettled(mutation(seq), seq, undefined);
  vi.advanceTimersByTime(INSPECT_INTERVAL_MS - 1);
  expect(heard).toHaveLength(1);
  vi.advanceTimersByTime(1);
  expect(heard).toHaveLength(2);
  // The ring keeps the newest, newest first.
  expect(heard[1]!.settled.map((m) => m.seq)).toEqual(Array.from({ length: INSPECT_RING }, (_, i) => 30 - i));
  expect(heard[1]!.settled[0]).toMatchObject({ state: 'confirmed', lsn: 30, args: '{"n":30}' });
  stop();
  inspector.changed();
  vi.runAllTimers();
  expect(heard).toHaveLength(2);
  // Confirmations seen by no one are dropped.
  expect(inspector.inspection().settled).toEqual([]);
});

test('errors are bounded and a repeat in a row is counted', () => {
  const inspector = new Inspector(() => state);
  for (let i = 0; i < 3; i++) inspector.error('connection', { code: 'server_unreachable', message: 'down' });
  expect(inspector.inspection().errors).toMatchObject([{ code: 'server_unreachable', count: 3 }]);
  for (let i = 0; i < 30; i++) inspector.error('server', { code: 'bad_seq', message: `#${i}` });
  const { errors } = inspector.inspection();
  expect(errors).toHaveLength(INSPECT_RING);
  expect(errors[0]).toMatchObject({ source: 'server', message: '#29', count: 1 });
});

test('long arguments are cut to 80 characters; a call without arguments shows none', () => {
  const inspector = new Inspector(() => state);
  inspector.subscribe(() => {});
  inspector.mutationSettled({ seq: 1, name: 'add', argsJson: JSON.stringify({ json: { title: 'x'.repeat(200) } }) }, 1, undefined);
  inspector.mutationSettled({ seq: 2, name: 'init', argsJson: '{"json":null,"meta":{"values":["undefined"],"v":1}}' }, 2, undefined);
  const [none, long] = inspector.inspection().settled;
  expect(long!.args).toHaveLength(80);
  expect(long!.args.endsWith('…')).toBe(true);
  expect(none!.args).toBe('');
});
