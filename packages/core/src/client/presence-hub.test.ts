import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WirePresenceState } from '../protocol/index.js';
import { PRESENCE_INTERVAL_MS, PresenceHub } from './presence-hub.js';

function hubWithLink(clientId = 'me') {
  const sent: WirePresenceState[][] = [];
  let open = true;
  const hub = new PresenceHub({ clientId: () => clientId, send: (states) => open && (sent.push(states), true) });
  return { hub, sent, setOpen: (value: boolean) => (open = value) };
}

const peer = (clientId: string, key: number, state: unknown, userId = '') => ({ clientId, key, userId, state: state === '' ? '' : JSON.stringify(state) });

describe('PresenceHub', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => void vi.useRealTimers());

  it('sends nothing before a welcome, then every state; afterwards at most one frame per interval, with the latest', () => {
    const { hub, sent } = hubWithLink();
    hub.set(0, { x: 1 });
    hub.set(3, { tab: 3 });
    expect(sent).toEqual([]);
    hub.welcomed();
    expect(sent).toEqual([[{ key: 0, state: '{"x":1}' }, { key: 3, state: '{"tab":3}' }]]);
    hub.set(0, { x: 2 });
    hub.set(0, { x: 3 });
    hub.set(3, null);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(PRESENCE_INTERVAL_MS - 1);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent[1]).toEqual([{ key: 0, state: '{"x":3}' }, { key: 3, state: '' }]);
    // A quiet connection sends the next change at once.
    vi.advanceTimersByTime(PRESENCE_INTERVAL_MS);
    hub.set(0, { x: 4 });
    expect(sent[2]).toEqual([{ key: 0, state: '{"x":4}' }]);
  });

  it('after a reconnect sends the states it has again, but not the cleared ones', () => {
    const { hub, sent, setOpen } = hubWithLink();
    hub.welcomed();
    hub.set(1, { a: 1 });
    hub.set(2, { b: 1 });
    vi.advanceTimersByTime(PRESENCE_INTERVAL_MS);
    hub.set(2, null);
    hub.disconnected();
    setOpen(false);
    hub.set(1, { a: 2 });
    setOpen(true);
    hub.welcomed();
    expect(sent.at(-1)).toEqual([{ key: 1, state: '{"a":2}' }]);
  });

  it('shows everyone relayed but its own key, ordered by id, the same array until something changes', () => {
    const { hub } = hubWithLink('me');
    const calls: number[] = [];
    hub.subscribe(() => calls.push(1));
    hub.receive({ type: 'presence', full: true, peers: [peer('zed', 0, { n: 'z' }, 'u1'), peer('me', 0, { n: 'me' }), peer('me', 2, { n: 'tab2' }), peer('amy', 0, { n: 'a' })] });
    expect(hub.othersOf(0)).toEqual([
      { id: 'amy:0', clientId: 'amy', state: { n: 'a' } },
      { id: 'me:2', clientId: 'me', state: { n: 'tab2' } },
      { id: 'zed:0', clientId: 'zed', userId: 'u1', state: { n: 'z' } },
    ]);
    expect(hub.othersOf(2).map((p) => p.id)).toEqual(['amy:0', 'me:0', 'zed:0']);
    expect(hub.othersOf(0)).toBe(hub.othersOf(0));
    const before = hub.othersOf(0);
    hub.receive({ type: 'presence', full: false, peers: [peer('zed', 0, ''), { clientId: 'bad', key: 0, userId: '', state: '{nope' }] });
    expect(hub.othersOf(0).map((p) => p.id)).toEqual(['amy:0', 'me:2']);
    expect(hub.othersOf(0)).not.toBe(before);
    // A full frame replaces what was known.
    hub.receive({ type: 'presence', full: true, peers: [peer('bob', 0, 1)] });
    expect(hub.othersOf(0).map((p) => p.id)).toEqual(['bob:0']);
    hub.disconnected();
    expect(hub.othersOf(0)).toEqual([]);
    expect(calls).toHaveLength(4);
  });

  it('refuses a value JSON cannot carry and a key out of range, keeping what it had', () => {
    const { hub, sent } = hubWithLink();
    hub.welcomed();
    expect(() => hub.set(0, 1n)).toThrow(expect.objectContaining({ code: 'invalid_presence' }));
    expect(() => hub.set(0, undefined)).toThrow(expect.objectContaining({ code: 'invalid_presence' }));
    // What JSON.stringify would drop or empty silently: the others would see another state.
    for (const lossy of [{ onClick: () => 1 }, { selected: new Set(['a']) }, { byId: new Map() }, { x: Number.NaN }, [Symbol('s')]]) {
      expect(() => hub.set(0, lossy), String(Object.keys(lossy))).toThrow(expect.objectContaining({ code: 'invalid_presence' }));
    }
    expect(() => hub.set(0, { selected: new Set(['a']) })).toThrow('"selected" is a Set, which JSON carries as {}');
    expect(() => hub.set(64, {})).toThrow(RangeError);
    expect(sent).toEqual([]);
  });
});
