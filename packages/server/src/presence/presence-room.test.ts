import { decodeServerMessage, type PresenceMessage } from '@quire/core/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerFrame } from '../coordinator/server-frame.js';
import { PRESENCE_FLUSH_MS, PresenceRoom, type PresenceMember } from './presence-room.js';

class Member implements PresenceMember {
  readonly frames: PresenceMessage[] = [];
  backlogged = false;
  constructor(
    readonly clientId: string,
    readonly userId: string | undefined = undefined,
  ) {}
  send(frame: ServerFrame): void {
    this.frames.push(decodeServerMessage(frame.bytes) as PresenceMessage);
  }
  /** The last frame's states as `clientId:key=state`, `full` marked. */
  last(): string[] {
    const frame = this.frames.at(-1);
    return frame ? [...(frame.full ? ['full'] : []), ...frame.peers.map((p) => `${p.clientId}:${p.key}=${p.state}`)] : [];
  }
}

const flush = () => vi.advanceTimersByTime(PRESENCE_FLUSH_MS);

describe('PresenceRoom', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => void vi.useRealTimers());

  it('coalesces changes into one shared frame per flush, the latest state of each', () => {
    const room = new PresenceRoom();
    const ann = new Member('ann', 'u-ann');
    const bob = new Member('bob');
    room.join(ann);
    room.join(bob);
    flush();
    // Nothing to tell newcomers while there are no states.
    expect(ann.frames).toEqual([]);
    room.set(ann, 0, '{"x":1}');
    room.set(ann, 0, '{"x":2}');
    room.set(bob, 0, '{"y":1}');
    expect(bob.frames).toEqual([]);
    flush();
    expect(bob.last()).toEqual(['ann:0={"x":2}', 'bob:0={"y":1}']);
    expect(ann.frames).toEqual(bob.frames);
    expect(bob.frames[0]!.peers[0]!.userId).toBe('u-ann');
    flush();
    expect(bob.frames).toHaveLength(1);
  });

  it('sends a newcomer every state, and the states of a member that leaves go', () => {
    const room = new PresenceRoom();
    const ann = new Member('ann');
    const bob = new Member('bob');
    room.join(ann);
    room.set(ann, 0, '{"a":1}');
    room.set(ann, 5, '{"tab":5}');
    flush();
    room.join(bob);
    room.set(ann, 5, '');
    flush();
    expect(bob.last()).toEqual(['full', 'ann:0={"a":1}']);
    expect(ann.last()).toEqual(['ann:5=']);
    room.leave(ann);
    flush();
    expect(bob.last()).toEqual(['ann:0=']);
    room.leave(bob);
    expect(room.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a new connection of a client takes its states over: the stale one leaving takes nothing with it', () => {
    const room = new PresenceRoom();
    const stale = new Member('ann');
    const fresh = new Member('ann');
    const bob = new Member('bob');
    for (const m of [stale, fresh, bob]) room.join(m);
    room.set(stale, 0, '{"v":1}');
    flush();
    room.set(fresh, 0, '{"v":2}');
    room.leave(stale);
    flush();
    expect(bob.last()).toEqual(['ann:0={"v":2}']);
  });

  it('a backlogged member gets nothing until it drains, then one full frame that replaces what it knew', () => {
    const room = new PresenceRoom();
    const ann = new Member('ann');
    const bob = new Member('bob');
    room.join(ann);
    room.join(bob);
    room.set(ann, 0, '{"a":1}');
    flush();
    bob.backlogged = true;
    room.set(ann, 0, '{"a":2}');
    room.leave(ann);
    flush();
    flush();
    expect(bob.frames).toHaveLength(1);
    bob.backlogged = false;
    flush();
    expect(bob.last()).toEqual(['full']);
  });
});
