import type { WirePresencePeer } from '@quire/core/protocol';
import { type ServerFrame, serverFrame } from '../coordinator/server-frame.js';

/** How often a room sends what changed, at most: each client gets one presence frame per interval. */
export const PRESENCE_FLUSH_MS = 50;

/** A connection in a room: a `Session`. */
export interface PresenceMember {
  readonly clientId: string;
  readonly userId: string | undefined;
  send(frame: ServerFrame): void;
  /** Its socket has much unsent: it gets no more presence until it drains, then everything at once. */
  readonly backlogged: boolean;
}

interface Held {
  readonly owner: PresenceMember;
  readonly peer: WirePresencePeer;
}

/**
 * The presence of one document's clients: each connection's states (by
 * client id and key, latest wins), relayed to every connection in the room.
 * Changes are coalesced and sent on a timer, once per PRESENCE_FLUSH_MS at
 * most, as one frame shared by every member: never in the commit path, and
 * encoded once however many clients listen. A member that joins gets every
 * state at the next flush. Lives in the thread that runs the document's
 * sessions and coordinator; nothing of it is ever written anywhere.
 */
export class PresenceRoom {
  // By `clientId:key`: a client's new connection takes its states over from a
  // stale one (a half-open socket the server has not noticed yet).
  private readonly states = new Map<string, Held>();
  private readonly owned = new Map<PresenceMember, Set<string>>();
  private readonly members = new Set<PresenceMember>();
  // Members to send every state at the next flush (a `full` frame, which
  // replaces what they knew): new ones (true: they know nothing, so with no
  // states there is nothing to send), and ones that were backlogged.
  private readonly behind = new Map<PresenceMember, boolean>();
  private readonly changed = new Map<string, WirePresencePeer>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly flushMs = PRESENCE_FLUSH_MS) {}

  get size(): number {
    return this.members.size + this.behind.size;
  }

  join(member: PresenceMember): void {
    this.owned.set(member, new Set());
    this.behind.set(member, true);
    this.schedule();
  }

  /** Drops the member and, at the next flush, every state it owns. */
  leave(member: PresenceMember): void {
    this.members.delete(member);
    this.behind.delete(member);
    for (const id of this.owned.get(member) ?? []) {
      const held = this.states.get(id);
      if (held?.owner !== member) continue;
      this.states.delete(id);
      this.changed.set(id, { ...held.peer, state: '' });
    }
    this.owned.delete(member);
    if (this.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.changed.clear();
    } else if (this.changed.size > 0) this.schedule();
  }

  /** Sets (or, with "", clears) the member's state under `key`. `state` is JSON text the session checked. */
  set(member: PresenceMember, key: number, state: string): void {
    const owned = this.owned.get(member);
    if (!owned) return;
    const id = `${member.clientId}:${key}`;
    const peer: WirePresencePeer = { clientId: member.clientId, key, userId: member.userId ?? '', state };
    const before = this.states.get(id);
    if (state === '') {
      if (!before) return;
      this.states.delete(id);
      this.owned.get(before.owner)?.delete(id);
    } else {
      if (before && before.owner !== member) this.owned.get(before.owner)?.delete(id);
      this.states.set(id, { owner: member, peer });
      owned.add(id);
    }
    this.changed.set(id, peer);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushMs);
  }

  private flush(): void {
    if (this.changed.size > 0) {
      const delta = serverFrame({ type: 'presence', full: false, peers: [...this.changed.values()] });
      this.changed.clear();
      for (const member of this.members) {
        if (!member.backlogged) member.send(delta);
        else {
          // What it missed comes as one full frame once it drains.
          this.members.delete(member);
          this.behind.set(member, false);
        }
      }
    }
    let full: ServerFrame | undefined;
    for (const [member, isNew] of this.behind) {
      if (member.backlogged) continue;
      this.behind.delete(member);
      this.members.add(member);
      if (isNew && this.states.size === 0) continue;
      full ??= serverFrame({ type: 'presence', full: true, peers: [...this.states.values()].map((held) => held.peer) });
      member.send(full);
    }
    // A backlogged member is looked at again next time.
    if (this.behind.size > 0) this.schedule();
  }
}
