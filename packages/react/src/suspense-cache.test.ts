import { afterEach, describe, expect, test, vi } from 'vitest';
import { FakeClient } from '../test/fake-client.js';
import { SuspenseCache } from './suspense-cache.js';

afterEach(() => vi.useRealTimers());

const SQL = 'SELECT 1 AS x';

describe('SuspenseCache', () => {
  test('the same query and params, by value, share one entry and one promise', () => {
    const client = new FakeClient();
    const cache = new SuspenseCache(client, 100);
    const a = cache.read(SQL, [1n, 'x'], undefined);
    const b = cache.read(SQL, [1n, 'x'], undefined);
    expect(b).toBe(a);
    expect(b.settled).toBe(a.settled);
    expect(cache.read(SQL, [2n, 'x'], undefined)).not.toBe(a);
    expect(cache.read(SQL, [1n, 'x'], 'x')).not.toBe(a);
    expect(client.subscriptions.length).toBe(3);
  });

  test('a loading entry is kept however long it takes; a settled one is dropped after the retention time', async () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    const cache = new SuspenseCache(client, 100);
    const entry = cache.read(SQL, [], undefined);
    vi.advanceTimersByTime(1_000);
    expect(cache.size).toBe(1);
    expect(client.active.length).toBe(1);

    client.emit(SQL, [{ x: 1 }]);
    await entry.settled;
    vi.advanceTimersByTime(99);
    expect(cache.read(SQL, [], undefined)).toBe(entry); // a read restarts the clock
    vi.advanceTimersByTime(99);
    expect(cache.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(cache.size).toBe(0);
    expect(client.active.length).toBe(0);
  });

  test('a subscribed entry is kept; unsubscribing starts the clock', () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    const cache = new SuspenseCache(client, 100);
    const entry = cache.read(SQL, [], undefined);
    client.emit(SQL, [{ x: 1 }]);
    const unsubscribe = entry.subscribe(() => {});
    vi.advanceTimersByTime(1_000);
    expect(cache.size).toBe(1);
    unsubscribe();
    unsubscribe();
    vi.advanceTimersByTime(100);
    expect(cache.size).toBe(0);
    expect(client.active.length).toBe(0);
  });

  test('an entry used after it was dropped subscribes again on its own', () => {
    vi.useFakeTimers();
    const client = new FakeClient();
    const cache = new SuspenseCache(client, 100);
    const entry = cache.read(SQL, [], undefined);
    client.emit(SQL, [{ x: 1 }]);
    vi.advanceTimersByTime(100);
    expect(client.active.length).toBe(0);
    const seen: number[] = [];
    const unsubscribe = entry.subscribe(() => seen.push(entry.query.getSnapshot().rows!.length));
    expect(client.active.length).toBe(1);
    client.emit(SQL, [{ x: 1 }, { x: 2 }]);
    expect(seen).toEqual([2]);
    unsubscribe();
    expect(client.active.length).toBe(0);
  });
});
