import { PresenceRoom, type PresenceMember } from './presence-room.js';

/** The presence rooms of the documents one thread serves: made at the first join, dropped when the last member leaves. */
export class PresenceRooms {
  private readonly rooms = new Map<string, PresenceRoom>();

  constructor(private readonly flushMs?: number) {}

  join(docId: string, member: PresenceMember): PresenceRoom {
    let room = this.rooms.get(docId);
    if (!room) this.rooms.set(docId, (room = new PresenceRoom(this.flushMs)));
    room.join(member);
    return room;
  }

  leave(docId: string, member: PresenceMember): void {
    const room = this.rooms.get(docId);
    if (!room) return;
    room.leave(member);
    if (room.size === 0) this.rooms.delete(docId);
  }
}
