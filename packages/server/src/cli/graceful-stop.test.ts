import { EventEmitter } from 'node:events';
import { afterEach, expect, test, vi } from 'vitest';
import { stopOnSignals } from './graceful-stop.js';
import { memoryLogger } from '../../test/memory-logger.js';

afterEach(() => void vi.useRealTimers());

/** A server whose drain ends when the test says. */
function drainingServer() {
  let finish!: (error?: Error) => void;
  const closed = new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
  return { server: { close: vi.fn(() => closed) }, finish };
}

function setup(drainTimeoutMs = 25_000) {
  const { server, finish } = drainingServer();
  const signals = new EventEmitter();
  const exits: number[] = [];
  const memory = memoryLogger();
  stopOnSignals(server, memory.logger, { drainTimeoutMs, exit: (code) => void exits.push(code), signals });
  return { server, finish, signals, exits, messages: () => memory.lines.map((l) => l.msg) };
}

test.each(['SIGTERM', 'SIGINT'])('%s drains once and exits 0 when the drain is done', async (signal) => {
  const { server, finish, signals, exits, messages } = setup();
  signals.emit(signal, signal);
  expect(server.close).toHaveBeenCalledTimes(1);
  expect(exits).toEqual([]);
  finish();
  await expect.poll(() => exits).toEqual([0]);
  expect(messages()).toEqual([`${signal}: draining before exit (a second signal, or 25000 ms, exits at once)`]);
});

test('a second signal exits 1 at once, without waiting for the drain', () => {
  const { server, signals, exits, messages } = setup();
  signals.emit('SIGTERM', 'SIGTERM');
  signals.emit('SIGINT', 'SIGINT');
  expect(exits).toEqual([1]);
  expect(server.close).toHaveBeenCalledTimes(1);
  expect(messages()[1]).toMatch(/^SIGINT again: exiting without waiting for the drain/);
});

test('a drain that outlasts drainTimeoutMs exits 1', () => {
  vi.useFakeTimers();
  const { signals, exits, messages } = setup(5000);
  signals.emit('SIGTERM', 'SIGTERM');
  vi.advanceTimersByTime(4999);
  expect(exits).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(exits).toEqual([1]);
  expect(messages()[1]).toMatch(/^the drain took over 5000 ms: exiting without waiting for it/);
});

test('a drain that fails exits 1, saying so', async () => {
  const { finish, signals, exits, messages } = setup();
  signals.emit('SIGTERM', 'SIGTERM');
  finish(new Error('the disk is on fire'));
  await expect.poll(() => exits).toEqual([1]);
  expect(messages()[1]).toMatch(/^the drain failed; exiting/);
});
