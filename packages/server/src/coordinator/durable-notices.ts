import type { CommitMessage } from '@quire/core/protocol';
import type { Peer } from './coordinator.js';
import { type ServerFrame, serverFrame } from './server-frame.js';

/**
 * How long a client that waits on nothing may go without hearing the log
 * moved, when no commit tells it. Such a client needs durability for its
 * status alone (its rows are never late): at 100 ms every edit that came
 * more than 100 ms after the one before cost each watching client a second
 * frame (measured in the fanout bench, where edits come every 0.2 to 0.7 s:
 * a third of the server's CPU per commit); at 1 s, only edits more than a
 * second apart do.
 */
export const DURABLE_NOTICE_DELAY_MS = 1000;

/**
 * Which durable LSN each connection was told, and when to tell it more.
 * A client with mutations in the commits just made durable hears it at
 * once, in a `durable` frame (its `server` promises wait on it). Every other
 * client learns it from the next commit's `durableLag`, or, when none comes
 * within DURABLE_NOTICE_DELAY_MS, from a `durable` frame then: while edits
 * follow each other, nobody gets a frame per commit only to say so.
 *
 * A commit of one client's mutations alone goes to that client once it is
 * durable, saying so (`durableLag` 0): one frame instead of two, and the
 * client shows nothing new meanwhile (it applied its mutations already).
 * Anything else sent to it first releases the commit as it was.
 */
export class DurableNotices {
  private readonly told = new Map<Peer, number>();
  private durableLsn = 0;
  private frame: ServerFrame | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  // Commits held for their writer until durable: the message and its frame as broadcast.
  private readonly held = new Map<Peer, { message: CommitMessage; frame: ServerFrame }>();

  constructor(private readonly delayMs = DURABLE_NOTICE_DELAY_MS) {}

  /** The peer was welcomed at this (durable) LSN. */
  joined(peer: Peer, lsn: number): void {
    this.told.set(peer, lsn);
  }

  left(peer: Peer): void {
    this.told.delete(peer);
    this.held.delete(peer);
  }

  /** Keeps the writer's copy of a commit (as broadcast to the others) until it is durable. */
  hold(peer: Peer, message: CommitMessage, frame: ServerFrame): void {
    this.release(peer);
    this.held.set(peer, { message, frame });
  }

  /** Sends a held commit as it is, not yet durable: something else is about to go to the peer. */
  release(peer: Peer): void {
    const held = this.held.get(peer);
    if (!held) return;
    this.held.delete(peer);
    peer.send(held.frame);
    this.carried(peer, held.message.lsn - held.message.durableLag);
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
    for (const [peer, { message }] of this.held) {
      if (message.lsn > lsn) continue;
      // Only the newest commit sent to a peer is ever held, so this is `lsn`: the commit says it is durable.
      this.held.delete(peer);
      peer.send(serverFrame({ ...message, durableLag: 0 }));
      this.carried(peer, message.lsn);
    }
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
    this.release(peer);
    const told = this.told.get(peer);
    if (told !== undefined && told < this.durableLsn) this.tell(peer);
  }

  /** Every peer behind hears where the log is now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const peer of [...this.held.keys()]) this.release(peer);
    for (const [peer, told] of this.told) if (told < this.durableLsn) this.tell(peer);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.told.clear();
    this.held.clear();
  }

  private tell(peer: Peer): void {
    this.frame ??= serverFrame({ type: 'durable', lsn: this.durableLsn });
    peer.send(this.frame);
    this.told.set(peer, this.durableLsn);
  }
}
