import type { Peer } from './coordinator.js';
import { type ServerFrame, serverFrame } from './server-frame.js';

/** How long a client that waits on nothing may go without hearing the log moved, when no commit tells it. */
export const DURABLE_NOTICE_DELAY_MS = 100;

/**
 * Which durable LSN each connection was told, and when to tell it more.
 * A client with mutations in the commits just made durable hears it at
 * once, in a `durable` frame (its `server` promises wait on it). Every other
 * client learns it from the next commit's `durableLag`, or, when none comes
 * within DURABLE_NOTICE_DELAY_MS, from a `durable` frame then: while edits
 * follow each other, nobody gets a frame per commit only to say so.
 */
export class DurableNotices {
  private readonly told = new Map<Peer, number>();
  private durableLsn = 0;
  private frame: ServerFrame | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly delayMs = DURABLE_NOTICE_DELAY_MS) {}

  /** The peer was welcomed at this (durable) LSN. */
  joined(peer: Peer, lsn: number): void {
    this.told.set(peer, lsn);
  }

  left(peer: Peer): void {
    this.told.delete(peer);
  }

  /** A frame that carried this durable LSN went to the peer. */
  carried(peer: Peer, lsn: number): void {
    if ((this.told.get(peer) ?? 0) < lsn) this.told.set(peer, lsn);
  }

  /** The log is durable up to `lsn`: peers `waiting` hear it now, the others later. */
  durable(lsn: number, waiting: (peer: Peer) => boolean): void {
    if (lsn <= this.durableLsn) return;
    this.durableLsn = lsn;
    this.frame = undefined;
    let behind = false;
    for (const [peer, told] of this.told) {
      if (told >= lsn) continue;
      if (waiting(peer)) this.tell(peer);
      else behind = true;
    }
    if (behind && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      this.timer.unref?.();
    }
  }

  /** Before a frame that takes for granted the peer knows how far the log is durable (a `pages` answer). */
  catchUp(peer: Peer): void {
    const told = this.told.get(peer);
    if (told !== undefined && told < this.durableLsn) this.tell(peer);
  }

  /** Every peer behind hears where the log is now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [peer, told] of this.told) if (told < this.durableLsn) this.tell(peer);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.told.clear();
  }

  private tell(peer: Peer): void {
    this.frame ??= serverFrame({ type: 'durable', lsn: this.durableLsn });
    peer.send(this.frame);
    this.told.set(peer, this.durableLsn);
  }
}
