import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withGlobal } from '@sinonjs/fake-timers';
import { FileStore, createClient, type MutationHandle, type QuireClient } from '@quire/core';
import { createLogger, createSyncServer, type SyncServer } from '@quire/server';
import type { AppendArgs, TransferArgs } from '../helpers/chaos-wire.js';
import { MutationBook, SERVER_STATE_QUERIES, rowIds, serverState, type Bank } from '../helpers/mutation-book.js';
import { digestDifferences, digestPages, type PageDigest } from '../helpers/page-digest.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { serverQuery } from '../helpers/server-rows.js';
import { copyAsCrashed, halfCheckpoint } from './crash-image.js';
import { SimNetwork } from './sim-network.js';
import { TodoBook, simReducers, type SimReducers } from './todo-workload.js';
import { TrackedLog, type LogFaultPoint } from './tracked-log.js';

/**
 * Where an armed crash strikes. `before-durable` holds the next append while
 * the schedule goes on (clients may receive its commits), until an action or
 * a heal crashes the server with it never durable.
 */
export type FaultPoint = LogFaultPoint | 'before-durable' | 'checkpoint';
export const FAULT_POINTS: readonly FaultPoint[] = ['before-log', 'before-durable', 'after-log', 'checkpoint'];

const DOC = 'doc';
export const BANK: Bank = { accounts: ['a', 'b', 'c', 'd'], balance: 100 };
// Small, so the server checkpoints every few commits and the checkpoint crash point is reached.
const CHECKPOINT_PAGES = 6;

/** Thrown inside the server at an armed fault point: the document stops there, as its process would. */
class SimulatedCrash extends Error {
  constructor(point: FaultPoint) {
    super(`simulated crash at ${point}`);
  }
}

export interface SimOptions {
  /** Clients running the bank and ledger workload, each with its own FileStore. Default 3. */
  clients?: number;
  /** Clients running the todo workload. Default 2. */
  todoClients?: number;
  /** Run the server on a commit log that acknowledges before it is durable (see TrackedLog). */
  brokenLog?: boolean;
}

/** One client of the simulation, across its restarts. */
export interface SimClient {
  name: string;
  role: 'bank' | 'todo';
  incarnation: number;
  client: QuireClient<SimReducers>;
  storePath: string;
  /** Calls made by this incarnation. */
  issued: number;
  /** Of those, the ones whose `server` promise has not settled. */
  unsettled: number;
  /** Set when this incarnation crashed: what its promises say after that is not the server's word. */
  crashed: boolean;
  /** Todo calls of this incarnation whose `server` promise has not settled. */
  openTodoCalls: Set<{ op: 'addTodo' | 'toggle'; id: string }>;
  /** Every time `status().durableLsn` went down, across incarnations. */
  backwards: string[];
  lastLsn: number;
  /** Calls whose `server` promise resolved at an LSN the client did not yet hold durable. */
  early: string[];
}

export interface WorldStats {
  mutations: number;
  serverCrashes: Record<FaultPoint | 'anytime', number>;
  clientRestarts: number;
  cuts: number;
  /** Connections cut (by the network or a crash) while their client had mutations awaiting the server: each makes it resend. */
  resendsForced: number;
  checks: number;
  checkpointPagesWritten: number;
  /** Clients that showed a commit the server then lost, at its crashes (the `before-durable` point's purpose). */
  seenNotDurable: number;
}

export function emptyStats(): WorldStats {
  return {
    mutations: 0,
    serverCrashes: { 'before-log': 0, 'before-durable': 0, 'after-log': 0, checkpoint: 0, anytime: 0 },
    clientRestarts: 0,
    cuts: 0,
    resendsForced: 0,
    checks: 0,
    checkpointPagesWritten: 0,
    seenNotDurable: 0,
  };
}

/**
 * Real Quire clients (WASM SQLite, FileStores) and a real sync server
 * (better-sqlite3, file commit log) in one process, over a {@link SimNetwork}.
 * Timers are fake, so time moves only when the scheduler says; randomness is
 * seeded; the server's only asynchronous I/O is watched. So once the world
 * has settled, the same action leads to the same state.
 */
export class SimWorld {
  readonly network = new SimNetwork();
  readonly book = new MutationBook('insufficient_funds');
  readonly todoBook = new TodoBook();
  readonly clients: SimClient[] = [];
  readonly trace: string[] = [];
  readonly stats = emptyStats();
  server: SyncServer<SimReducers> | undefined;
  /** The next crash point the server dies at, how much of a checkpoint it gets done, and whether connects then hang. */
  armed: { point: FaultPoint; fraction: number; hang: boolean } | undefined;
  /** An append held at `before-durable`: its commits are seen and never durable; `crash` ends it. */
  held: { crash(): void } | undefined;

  private readonly io = { inFlight: 0 };
  private readonly clock: ReturnType<ReturnType<typeof withGlobal>['install']>;
  private readonly realRandom = Math.random;
  private readonly root: string;
  private serverDir: string;
  private serverIncarnation = 0;
  /** Servers that crashed, still closing (in their own abandoned folders). */
  private readonly closing: Promise<void>[] = [];
  private previous: { lsn: number; ids: ReadonlySet<string> } | undefined;

  private constructor(
    seed: number,
    private readonly options: SimOptions,
  ) {
    const tmp = existsSync('/dev/shm') ? '/dev/shm' : undefined;
    this.root = mkdtempSync(join(tmp ?? process.env.TMPDIR ?? '/tmp', 'quire-sim-'));
    this.serverDir = join(this.root, 'server-0');
    // Backoff jitter and SQLite temp names read Math.random.
    const random = seededRandom(seed);
    Math.random = () => random.next();
    this.clock = withGlobal(globalThis).install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  }

  static async create(seed: number, options: SimOptions = {}): Promise<SimWorld> {
    const world = new SimWorld(seed, options);
    try {
      world.startServer();
      await world.server!.mutate(DOC, 'init', { accounts: [...BANK.accounts], balance: BANK.balance });
      await world.server!.mutate(DOC, 'initTodos', undefined);
      for (let i = 1; i <= (options.clients ?? 3); i++) await world.openClient(`c${i}`, 'bank', 0, join(world.root, `c${i}-0.store`));
      for (let i = 1; i <= (options.todoClients ?? 2); i++) await world.openClient(`t${i}`, 'todo', 0, join(world.root, `t${i}-0.store`));
      await world.settle();
    } catch (error) {
      await world.dispose();
      throw error;
    }
    return world;
  }

  log(line: string): void {
    this.trace.push(line);
  }

  // ---- waiting ----------------------------------------------------------

  /**
   * Runs the event loop until nothing moves: no log I/O in flight and no
   * new bytes, links or cuts for a few turns. Timers are fake and do not
   * fire here.
   */
  async settle(): Promise<void> {
    let quiet = 0;
    let last = -1;
    for (let turn = 0; quiet < 4; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      const version = this.network.version;
      quiet = this.io.inFlight === 0 && version === last ? quiet + 1 : 0;
      last = version;
      if (turn > 1_000_000) throw new Error('the simulation never settled');
    }
  }

  /** Fires the next fake timer (a reconnect, a close timeout, an idle close). */
  tick(): string | undefined {
    if (this.clock.countTimers() === 0) return undefined;
    const before = this.clock.now;
    this.clock.next();
    return `tick +${this.clock.now - before}ms`;
  }

  get timers(): number {
    return this.clock.countTimers();
  }

  // ---- the server -------------------------------------------------------

  startServer(): void {
    const dataDir = this.serverDir;
    this.server = createSyncServer({
      reducers: simReducers,
      dataDir,
      checkpointPages: CHECKPOINT_PAGES,
      commitLog: (_docId, dir) =>
        new TrackedLog(
          dir,
          this.io,
          (point) => this.faultPoint(point),
          () => this.holdAppend(),
          this.options.brokenLog,
        ),
      beforeCheckpoint: () => this.faultPoint('checkpoint'),
      // Its crashes are on purpose: each would log an error.
      logger: createLogger({ level: 'silent' }),
    });
    this.server.attach(this.network.httpServer);
  }

  /**
   * The server process dies now: its files are copied as they are (what a
   * restart will find), every connection drops, and the old instance is
   * left to wind down in a folder nobody reads again.
   */
  crashServer(point: FaultPoint | 'anytime', fraction = 1, hang = false): void {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.armed = undefined;
    const next = join(this.root, `server-${++this.serverIncarnation}`);
    copyAsCrashed(this.serverDir, next);
    this.serverDir = next;
    let detail = '';
    if (point === 'checkpoint') {
      const { written, of } = halfCheckpoint(join(next, DOC), fraction);
      this.stats.checkpointPagesWritten += written;
      detail = ` (${written} of ${of} pages checkpointed)`;
    }
    this.stats.serverCrashes[point]++;
    this.stats.seenNotDurable += this.clients.filter((c) => c.client.status().lsn > c.client.status().durableLsn).length;
    this.stats.resendsForced += this.clients.filter((c) => c.client.status().pending > 0 && c.client.status().connection === 'connected').length;
    this.network.down = hang ? 'hang' : 'refuse';
    this.network.processDied('server');
    this.closing.push(server.close().catch(() => {}));
    this.log(`server crashed at ${point}${detail}; connects now ${hang ? 'hang' : 'are refused'}`);
  }

  restartServer(): void {
    if (this.server) return;
    this.startServer();
    this.network.down = undefined;
    this.log(`server restarted from its files (incarnation ${this.serverIncarnation})`);
  }

  private faultPoint(point: FaultPoint): void {
    if (this.armed?.point !== point) return;
    this.crashServer(point, this.armed.fraction, this.armed.hang);
    throw new SimulatedCrash(point);
  }

  /** At `before-durable`, the append waits until the server crashes; it never writes. */
  private holdAppend(): Promise<void> | undefined {
    if (this.armed?.point !== 'before-durable' || this.held) return undefined;
    const { hang } = this.armed;
    return new Promise<void>((_, reject) => {
      this.held = {
        crash: () => {
          this.held = undefined;
          this.crashServer('before-durable', 1, hang);
          reject(new SimulatedCrash('before-durable'));
        },
      };
      this.log('the next log append is held: its commits are seen, not durable');
    });
  }

  // ---- clients ----------------------------------------------------------

  private async openClient(name: string, role: SimClient['role'], incarnation: number, storePath: string, backwards: string[] = [], lastLsn = 0, early: string[] = []): Promise<SimClient> {
    const client = createClient({
      url: 'ws://sim/',
      docId: DOC,
      reducers: simReducers,
      clientId: name,
      store: await FileStore.open(storePath),
      WebSocket: this.network.webSocketFor(name),
      reconnect: { minDelayMs: 5, maxDelayMs: 200 },
    });
    await client.ready();
    const sim: SimClient = { name, role, incarnation, client, storePath, issued: 0, unsettled: 0, crashed: false, openTodoCalls: new Set(), backwards, lastLsn, early };
    // A client shows commits before they are durable and drops them if the
    // server loses them; its durable LSN never goes back.
    const watch = () => {
      const { durableLsn } = client.status();
      if (durableLsn < sim.lastLsn) sim.backwards.push(`${name}#${incarnation}: ${sim.lastLsn}->${durableLsn}`);
      sim.lastLsn = Math.max(sim.lastLsn, durableLsn);
    };
    watch();
    client.subscribeStatus(watch);
    const at = this.clients.findIndex((c) => c.name === name);
    if (at >= 0) this.clients[at] = sim;
    else this.clients.push(sim);
    return sim;
  }

  /**
   * The client's process dies: its store file is copied as it is, its
   * connections drop, and a new incarnation starts from the copy.
   */
  async restartClient(sim: SimClient): Promise<void> {
    sim.crashed = true;
    const next = join(this.root, `${sim.name}-${sim.incarnation + 1}.store`);
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(sim.storePath + suffix)) copyAsCrashed(sim.storePath + suffix, next + suffix);
    if (sim.client.status().pending > 0) this.stats.resendsForced++;
    this.network.processDied(sim.name);
    await sim.client.close();
    const orphaned = this.book.orphan(sim.name, sim.incarnation) + sim.openTodoCalls.size;
    for (const { op, id } of sim.openTodoCalls) this.todoBook.lost(op, id);
    this.stats.clientRestarts++;
    await this.openClient(sim.name, sim.role, sim.incarnation + 1, next, sim.backwards, sim.lastLsn, sim.early);
    this.log(`${sim.name} crashed and restarted from its store (${orphaned} calls left unsettled)`);
  }

  /** A transfer (which the server may refuse) or an append, recorded in the book with its outcome. */
  mutate(sim: SimClient, op: 'transfer' | 'append', choice: number): void {
    const n = ++sim.issued;
    const id = `${sim.name}.${sim.incarnation}.${n}`;
    let args: TransferArgs | AppendArgs;
    let handle;
    if (op === 'transfer') {
      const accounts = BANK.accounts;
      const payer = accounts[choice % accounts.length]!;
      const payee = accounts[(choice + 1 + (Math.floor(choice / 4) % (accounts.length - 1))) % accounts.length]!;
      args = { id, payer, payee, amount: 1 + (Math.floor(choice / 16) % 120) };
      handle = sim.client.mutate.transfer(args);
    } else {
      args = { id, padBytes: choice % 5 === 0 ? 3000 + (choice % 3000) : choice % 200 };
      handle = sim.client.mutate.append(args);
    }
    this.book.onEvent({ type: 'issued', proc: sim.name, incarnation: sim.incarnation, clientId: sim.name, n, seq: handle.seq, op, args });
    this.follow(sim, handle, (outcome) => this.book.onEvent({ type: 'settled', id, ...outcome }));
    this.log(`${sim.name} ${op} ${JSON.stringify(args)} as seq ${handle.seq}`);
  }

  /** Adds a todo, or toggles one whose add was confirmed. */
  mutateTodo(sim: SimClient, choice: number): void {
    const toggled = this.todoBook.pick(choice);
    const call = toggled ? { op: 'toggle' as const, id: toggled } : { op: 'addTodo' as const, id: `${sim.name}.${sim.incarnation}.${++sim.issued}` };
    let handle;
    if (call.op === 'toggle') handle = sim.client.mutate.toggle({ id: call.id });
    else {
      this.todoBook.added(call.id);
      handle = sim.client.mutate.addTodo({ id: call.id, title: `todo ${call.id}` });
    }
    sim.openTodoCalls.add(call);
    this.follow(sim, handle, (outcome) => {
      sim.openTodoCalls.delete(call);
      this.todoBook.settled(call.op, call.id, 'code' in outcome ? outcome : undefined);
    });
    this.log(`${sim.name} ${call.op} ${call.id} as seq ${handle.seq}`);
  }

  /**
   * Counts a call as unsettled until its `server` promise settles, then
   * reports the outcome, unless its client crashed first: what a dead
   * incarnation's promises say is not the server's word.
   */
  private follow(sim: SimClient, handle: MutationHandle, report: (outcome: { lsn: number } | { code: string; message: string }) => void): void {
    this.stats.mutations++;
    sim.unsettled++;
    handle.local.catch(() => {});
    handle.server.then(
      ({ lsn }) => {
        sim.unsettled--;
        if (sim.crashed) return;
        // Confirmed means durable: the client holds that LSN durable by now.
        const { durableLsn } = sim.client.status();
        if (lsn > durableLsn) sim.early.push(`${sim.name}#${sim.incarnation} seq ${handle.seq} resolved at LSN ${lsn} while its durable LSN was ${durableLsn}`);
        report({ lsn });
      },
      (error: { code?: string; message?: string }) => {
        sim.unsettled--;
        if (!sim.crashed) report({ code: error?.code ?? 'no_code', message: error?.message ?? String(error) });
      },
    );
  }

  // ---- quiescent points -------------------------------------------------

  /**
   * Lets the world reach a quiescent point: the server comes back if it is
   * down, nothing is armed, every byte is delivered in order and timers
   * fire until every client is connected, has nothing pending and is at
   * the server's LSN. Returns why it could not get there, if it could not.
   */
  async heal(): Promise<string | undefined> {
    // A held append ends the way it was armed to: the server crashes with it.
    this.held?.crash();
    this.armed = undefined;
    this.restartServer();
    for (let step = 0; step < 50_000; step++) {
      await this.settle();
      const busy = this.network.busy();
      if (busy.length > 0) {
        busy[0]!.link.deliver(busy[0]!.direction);
        continue;
      }
      if (await this.quiescent()) return undefined;
      if (!this.tick()) return `stuck with nothing in flight and no timers: ${this.describeClients()}`;
    }
    return `not quiescent after 50,000 steps: ${this.describeClients()}`;
  }

  private async quiescent(): Promise<boolean> {
    const statuses = this.clients.map((c) => ({ ...c.client.status(), unsettled: c.unsettled }));
    if (statuses.some((s) => s.connection !== 'connected' || s.pending > 0 || s.unsettled > 0)) return false;
    const { lsn } = await this.server!.snapshot(DOC);
    await this.settle();
    return statuses.every((s) => s.lsn === lsn && s.durableLsn === lsn);
  }

  describeClients(): string {
    return this.clients
      .map((c) => {
        const s = c.client.status();
        return `${c.name}#${c.incarnation} ${s.connection} pending=${s.pending} unsettled=${c.unsettled} lsn=${s.lsn} durable=${s.durableLsn}${s.lastError ? ` (${s.lastError.code})` : ''}`;
      })
      .join('; ');
  }

  /** Heals, then checks every invariant. Returns the violations. */
  async check(): Promise<string[]> {
    const stuck = await this.heal();
    if (stuck) return [`no quiescent point: ${stuck}`];
    this.stats.checks++;
    const server = this.server!;
    const snapshot = await server.snapshot(DOC);
    const serverDigest = digestPages(snapshot.lsn, snapshot.pageCount, snapshot.pages);
    const violations: string[] = [];
    for (const c of this.clients) {
      const digest = await c.client.inspect((replica): PageDigest => {
        const base = replica.pages.baseImage();
        return digestPages(base.lsn, base.pageCount, [...base.pages].map(([pgno, data]) => ({ pgno, data })), replica.pages.overlayPages().length);
      });
      for (const difference of digestDifferences(digest, serverDigest)) violations.push(`convergence: ${c.name} ${difference}`);
      for (const step of c.backwards) violations.push(`monotonic reads: ${c.name} saw its durable LSN go back ${step}`);
      for (const early of c.early) violations.push(`confirmed before durable: ${early}`);
    }
    const { lsn, results } = await serverQuery(server, DOC, [...SERVER_STATE_QUERIES, 'SELECT id, completed FROM todos']);
    const state = serverState(lsn, results.slice(0, SERVER_STATE_QUERIES.length));
    const todoClients = this.clients.filter((c) => c.role === 'todo').map((c) => c.name);
    violations.push(...this.book.check(state, BANK, todoClients, this.previous).violations);
    violations.push(...this.todoBook.check(results[SERVER_STATE_QUERIES.length] as Array<{ id: string; completed: number }>));
    this.previous = { lsn, ids: rowIds(state) };
    await this.settle();
    this.log(`check at LSN ${lsn}: ${violations.length === 0 ? 'all invariants hold' : `${violations.length} violations`}`);
    return violations;
  }

  async dispose(): Promise<void> {
    try {
      for (const c of this.clients) {
        c.crashed = true;
        await c.client.close().catch(() => {});
      }
      this.network.cutAll();
      await this.server?.close().catch(() => {});
      // Closing servers may wait on timers (the ws close handshake): let them run.
      const all = Promise.all(this.closing);
      let done = false;
      void all.then(() => (done = true));
      for (let i = 0; i < 1000 && !done; i++) {
        await this.settle();
        if (!done) this.tick();
      }
    } finally {
      this.clock.uninstall();
      Math.random = this.realRandom;
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}
