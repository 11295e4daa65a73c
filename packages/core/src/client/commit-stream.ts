import type { BaseUpdate } from '../engine/rebase.js';
import type { PageImage } from '../page/page.js';
import type { CommitMessage, DurableMessage, Rejection, RejectionsMessage, SnapshotMessage, WelcomeMessage } from '../protocol/index.js';

/** A server update for the engine to apply, with this client's rejections it settles. */
export interface StreamedUpdate {
  update: BaseUpdate;
  rejections: Rejection[];
  /** False for a commit the server has not yet said is durable: it goes over the base as a layer. */
  durable: boolean;
  /** The commit said the log is durable up to this LSN (its own, or an earlier one), which is news: fold the layers up to it once the commit is applied. */
  durableTo?: number;
}

/**
 * The server's updates as one connection receives them: which LSN they have
 * reached, whether they follow on without a gap, and whether the client has
 * caught up with the state the server welcomed it at.
 */
export class CommitStream {
  // The LSN the base will be at once every received update is applied (the
  // engine applies them asynchronously, in order).
  private receivedLsn = 0;
  // The LSN up to which the server said its log is durable (a welcome,
  // snapshot and catch-up are durable too): the base's LSN once every
  // received update is applied.
  private durable = 0;
  // The server's LSN at this connection's welcome, and whether the snapshot
  // or catch-up that follows it has been applied.
  private welcomeLsn = 0;
  private caughtUp = false;
  private snapshotPages: PageImage[] = [];
  // This client's rejections from the welcome: settled with the update that follows.
  private welcomeRejections: Rejection[] = [];
  // This client's rejections in the commit that comes next (the server sends them right before it).
  private commitRejections: RejectionsMessage | undefined;

  /** What the hello tells the server this client already has. */
  get lastLsn(): number {
    return this.receivedLsn;
  }

  /** What the server said is durable. */
  get durableLsn(): number {
    return this.durable;
  }

  /** A stored replica starts from its stored base. */
  startAt(baseLsn: number): void {
    if (this.receivedLsn === 0) this.receivedLsn = this.durable = baseLsn;
  }

  /**
   * A new socket: the parts of a snapshot the old one carried are void, and
   * so are the commits it never said were durable (the engine drops them),
   * so the client asks to catch up from its durable base.
   */
  opened(): void {
    this.snapshotPages = [];
    this.commitRejections = undefined;
    this.receivedLsn = this.durable;
  }

  /** Returns the rejections to settle right away, when the client is already current. */
  welcome(message: WelcomeMessage, clientId: string): Rejection[] {
    this.welcomeLsn = message.lsn;
    // A snapshot or catch-up commit follows unless the client is current.
    this.caughtUp = message.lsn === this.receivedLsn;
    this.welcomeRejections = message.rejections.filter((r) => r.clientId === clientId);
    if (!this.caughtUp) return [];
    const now = this.welcomeRejections;
    this.welcomeRejections = [];
    return now;
  }

  /** One part of a snapshot; the whole snapshot once the last part is in. */
  snapshot(message: SnapshotMessage): StreamedUpdate | undefined {
    this.snapshotPages.push(...message.pages);
    if (!message.done) return undefined;
    this.receivedLsn = this.durable = message.lsn;
    const streamed: StreamedUpdate = {
      update: { kind: 'snapshot', lsn: message.lsn, pageCount: message.pageCount, pages: this.snapshotPages },
      rejections: this.welcomeRejections,
      durable: true,
    };
    this.snapshotPages = [];
    this.welcomeRejections = [];
    return streamed;
  }

  /**
   * The update a commit makes; undefined for one already received, and
   * `'gap'` when commits are missing before it (the client must resync).
   */
  commit(message: CommitMessage): StreamedUpdate | 'gap' | undefined {
    const own = this.commitRejections?.lsn === message.lsn ? this.commitRejections.rejections : [];
    this.commitRejections = undefined;
    if (message.lsn - message.span !== this.receivedLsn) return message.lsn <= this.receivedLsn ? undefined : 'gap';
    this.receivedLsn = message.lsn;
    const rejections = [...this.welcomeRejections, ...own];
    this.welcomeRejections = [];
    const { lsn, pageCount, pages, forgotten } = message;
    // The server welcomes at a durable LSN: the catch-up commit after a welcome is durable.
    const durable = lsn <= this.welcomeLsn;
    const update: StreamedUpdate = { update: { kind: 'commit', lsn, pageCount, pages, forgotten: forgotten.map((p) => p.pgno) }, rejections, durable };
    if (durable) this.durable = lsn;
    // A live commit goes over the base as a layer, even one sent once durable
    // (to its writer, durableLag 0): earlier commits may still be layers, which fold first.
    else if (lsn - message.durableLag > this.durable) update.durableTo = this.durable = lsn - message.durableLag;
    return update;
  }

  /** The server's log is durable up to `lsn`; returns it when that is news, for the engine to fold. */
  durableAt(message: DurableMessage): number | undefined {
    if (message.lsn <= this.durable || message.lsn > this.receivedLsn) return undefined;
    this.durable = message.lsn;
    return message.lsn;
  }

  /** This client's mutations the next commit refused: settled with that commit, which has their `lsn`. */
  rejections(message: RejectionsMessage): void {
    this.commitRejections = message;
  }

  /** The engine applied an update from this stream. */
  applied(update: BaseUpdate): void {
    if (update.kind === 'snapshot' || update.lsn >= this.welcomeLsn) this.caughtUp = true;
  }

  /** Whether a base at `baseLsn` has the state the server welcomed this connection at. */
  caughtUpAt(baseLsn: number): boolean {
    return this.caughtUp && baseLsn >= this.welcomeLsn;
  }
}
