import fc from 'fast-check';
import { encodeMessage, type Mutation } from '@quire/core/protocol';
import { describeSeen, FuzzConnection } from './fuzz-connection.js';
import { badFrame, helloFrame, nonFatal, pushFrame, validMutation, type Recipe } from './fuzz-frames.js';
import { SessionModel, expectedPages, type Outcome, type SeqModel, type WireFrame } from './fuzz-model.js';

/** One connection's life: an optional hello, then valid traffic with bad frames in between. */
export interface EpisodePlan {
  hello: boolean;
  /** Where the hello says the client is: at the server's LSN, a few commits behind, or nowhere (a snapshot). */
  start: 'current' | 'behind' | 'partial' | 'full';
  /** Wait for the welcome before going on (else frames follow the hello at once). */
  waitWelcome: boolean;
  steps: Iterable<Step>;
}

export type Step =
  | { kind: 'push'; count: number; settle: boolean }
  | { kind: 'getPages'; pgnos: number[] }
  | { kind: 'forget'; pgnos: number[] }
  | { kind: 'bad'; recipe: Recipe };

const validStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), count: fc.integer({ min: 1, max: 5 }), settle: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getPages' as const), pgnos: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), pgnos: fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 6 }) }) },
);
const bad = (recipes: fc.Arbitrary<Recipe>): fc.Arbitrary<Step> => recipes.map((recipe) => ({ kind: 'bad' as const, recipe }));
const start = fc.oneof(
  { weight: 170, arbitrary: fc.constant('current' as const) },
  { weight: 20, arbitrary: fc.constant('behind' as const) },
  { weight: 20, arbitrary: fc.constant('partial' as const) },
  { weight: 1, arbitrary: fc.constant('full' as const) },
);

/** A short episode around one or more bad frames, at a random point of the session. */
export const episodePlan: fc.Arbitrary<EpisodePlan> = fc.record({
  hello: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  start,
  waitWelcome: fc.boolean(),
  steps: fc
    .tuple(
      fc.array(fc.oneof({ weight: 2, arbitrary: validStep }, { weight: 4, arbitrary: bad(nonFatal(3000)) }, { weight: 1, arbitrary: bad(badFrame) }), { maxLength: 8 }),
      bad(badFrame),
      fc.nat(),
    )
    .map(([steps, last, at]) => [...steps.slice(0, at % (steps.length + 1)), last, ...steps.slice(at % (steps.length + 1))]),
});

// Small page requests only: episodes and the flood suite cover big answers, and streams send many.
const streamStep: fc.Arbitrary<Step> = fc.oneof({ weight: 1, arbitrary: validStep }, { weight: 6, arbitrary: bad(nonFatal(200)) });

/**
 * A long-lived session that survives many bad frames: seq gaps, resends,
 * refused reducers, junk page requests. Its steps are made a few hundred at
 * a time as the session gets to them (from seeds derived from `seed`).
 */
export function streamPlan(seed: number, steps: number): EpisodePlan {
  return {
    hello: true,
    start: 'current',
    waitWelcome: true,
    steps: {
      *[Symbol.iterator]() {
        for (let made = 0, chunk = 0; made < steps; chunk++) {
          const n = Math.min(500, steps - made);
          yield* fc.sample(streamStep, { seed: (seed + chunk * 104_729) | 0, numRuns: n });
          made += n;
        }
      },
    },
  };
}

/** Frames sent, by what made them and by what the server had to do. */
export class FuzzStats {
  episodes = 0;
  frames = 0;
  badFrames = 0;
  readonly byKind = new Map<string, number>();
  readonly byOutcome = new Map<string, number>();

  count(kind: string | undefined, outcome: Outcome): void {
    this.frames++;
    if (kind === undefined) return;
    this.badFrames++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    const key = outcome.kind === 'fatal' ? `fatal ${outcome.code}` : outcome.kind === 'transport' ? `close ${outcome.closeCode}` : outcome.kind === 'push' && outcome.gap !== undefined ? 'seq_gap' : outcome.kind;
    this.byOutcome.set(key, (this.byOutcome.get(key) ?? 0) + 1);
  }
}

export interface EpisodeEnv {
  url: string;
  docId: string;
  maxMessageBytes: number;
  seqs: SeqModel;
  stats: FuzzStats;
  /** The server's LSN as far as the test knows it. */
  lsn(): number;
}

// Page request ids the generators never make, for barriers.
const BARRIER_ID = 2 ** 52;
/** The server's close code for each fatal error code (packages/server/src/session.ts). */
const CLOSE_CODES: Record<string, number> = { unauthorized: 4401, server_error: 4500, server_outdated: 4500, too_many_connections: 4429, slow_consumer: 4429 };

/**
 * Runs one episode on a fresh connection and checks, frame by frame, that
 * the server did what the session model predicts: one fatal error frame then
 * a close for a frame that ends the session, a `seq_gap` error for a gap, an
 * answer for each page request, nothing else. Throws with the whole episode
 * on any difference.
 */
export async function runEpisode(env: EpisodeEnv, plan: EpisodePlan, clientId: string): Promise<void> {
  const conn = await FuzzConnection.open(env.url, env.docId);
  const model = new SessionModel(env.seqs, env.maxMessageBytes);
  const log: string[] = [];
  const expectedErrors: Array<{ code: string; seq: number; fatal: boolean }> = [];
  const pageRequests = new Map<number, number[][]>();
  let barriers = 0;
  let helloSeen = false;
  let nextPagesId = 1;

  const fail = (problem: string): never => {
    throw new Error(`${problem}\nepisode ${clientId} (${plan.start}${plan.waitWelcome ? ', waits for welcome' : ''}):\n  ${log.join('\n  ')}\nreceived: ${describeSeen(conn.seen)}\nclosed: ${JSON.stringify(conn.closed)}`);
  };

  const barrier = async () => {
    const id = BARRIER_ID + barriers++;
    conn.send({ bytes: encodeMessage({ type: 'getPages', id, pgnos: [{ pgno: 1 }] }), label: 'barrier' });
    await conn.waitFor(() => conn.closed !== undefined || conn.seen.some((m) => m.type === 'pages' && m.id === id), () => `barrier ${id}`).catch((e: Error) => fail(e.message));
    if (conn.closed) fail('the server closed a connection that had sent nothing fatal');
  };

  const emit = async (frame: WireFrame, kind?: string) => {
    const wasClosed = model.closedBy !== undefined;
    // After a fatal frame the server reads nothing more, except that the WebSocket layer would still refuse this
    // one at once, overtaking the fatal frame: not sent, so the outcome stays certain.
    if (wasClosed && model.transportClose(frame) !== undefined) return;
    const outcome = model.receive(frame);
    env.stats.count(wasClosed ? undefined : kind, outcome);
    log.push(`${kind ? 'BAD ' : ''}${frame.label} [${frame.bytes.length} bytes${frame.text ? ', text' : ''}: ${hex(frame.bytes)}] → ${describeOutcome(outcome)}`);
    // The WebSocket layer may close before frames ahead of this one were handled: let them through first.
    if (outcome.kind === 'transport' && model.helloDone) await barrier();
    conn.send(frame);
    if (outcome.kind === 'fatal') expectedErrors.push({ code: outcome.code, seq: 0, fatal: true });
    if (outcome.kind === 'push' && outcome.gap !== undefined) expectedErrors.push({ code: 'seq_gap', seq: outcome.gap, fatal: false });
    if (outcome.kind === 'presence') for (let i = 0; i < outcome.tooLarge; i++) expectedErrors.push({ code: 'presence_too_large', seq: 0, fatal: false });
    if (outcome.kind === 'hello') helloSeen = true;
    if (outcome.kind === 'pages') pageRequests.set(outcome.id, [...(pageRequests.get(outcome.id) ?? []), outcome.pgnos]);
  };

  const currentClientId = () => model.clientId ?? clientId;

  try {
    if (plan.hello) {
      const lsn = env.lsn();
      const options =
        plan.start === 'current' ? { lastLsn: lsn } : plan.start === 'behind' ? { lastLsn: Math.max(1, lsn - 1 - (clientId.length % 8)) } : { partial: plan.start === 'partial' };
      await emit({ bytes: helloFrame(clientId, options), label: `hello ${JSON.stringify(options)}` });
      if (plan.waitWelcome) await conn.waitFor(() => conn.closed !== undefined || conn.seen.some((m) => m.type === 'welcome'), () => 'the welcome').catch((e: Error) => fail(e.message));
    }
    let afterClose = 0;
    for (const step of plan.steps) {
      if (model.closedBy && afterClose++ > 0) break;
      const id = currentClientId();
      if (step.kind === 'bad') {
        const frame = step.recipe.make({ clientId: id, helloDone: model.helloDone, nextSeq: env.seqs.next(id) });
        await emit(frame, step.recipe.kind);
      } else if (step.kind === 'push') {
        const first = env.seqs.next(id);
        const mutations: Mutation[] = Array.from({ length: step.count }, (_, i) => validMutation(id, first + i));
        await emit({ bytes: pushFrame(mutations), label: `push ${first}..${first + step.count - 1}` });
        if (step.settle && model.helloDone && !model.closedBy) await barrier();
      } else if (step.kind === 'getPages') {
        await emit({ bytes: encodeMessage({ type: 'getPages', id: nextPagesId++, pgnos: step.pgnos.map((pgno) => ({ pgno })) }), label: `getPages ${step.pgnos.join(',')}` });
      } else {
        await emit({ bytes: encodeMessage({ type: 'forget', pgnos: step.pgnos.map((pgno) => ({ pgno })) }), label: `forget ${step.pgnos.join(',')}` });
      }
    }

    const closedBy = model.closedBy;
    if (closedBy) {
      await conn.waitFor(() => conn.closed !== undefined, () => `the close after ${describeOutcome(closedBy)}`).catch((e: Error) => fail(e.message));
      if (closedBy.kind === 'fatal') {
        const code = CLOSE_CODES[closedBy.code] ?? 4400;
        if (conn.closed!.code !== code || conn.closed!.reason !== closedBy.code) fail(`expected close ${code} "${closedBy.code}"`);
      } else if (closedBy.kind === 'transport' && conn.closed!.code !== closedBy.closeCode) {
        fail(`expected the WebSocket layer to close with ${closedBy.closeCode}`);
      }
    } else {
      if (model.helloDone) await barrier();
      if (helloSeen && !conn.seen.some((m) => m.type === 'welcome')) fail('no welcome after a valid hello');
    }

    const errors = conn.seen.flatMap((m) => (m.type === 'error' ? [{ code: m.code, seq: m.seq, fatal: m.fatal }] : []));
    if (JSON.stringify(errors) !== JSON.stringify(expectedErrors)) fail(`error frames ${JSON.stringify(errors)}, expected ${JSON.stringify(expectedErrors)}`);
    for (const m of conn.seen) {
      if (m.type === 'undecodable') fail(`an undecodable frame from the server: ${m.error}`);
      if (m.type === 'error' && m.message.length < 10) fail(`error ${m.code} without a useful message`);
      if (m.type !== 'pages' || m.id >= BARRIER_ID) continue;
      const requested = pageRequests.get(m.id)?.shift();
      if (!requested) fail(`an answer to page request ${m.id}, which was not asked for (or twice)`);
      const want = expectedPages(requested!, m.pageCount);
      if (JSON.stringify(m.pgnos) !== JSON.stringify(want)) fail(`page answer ${m.id}: pages ${m.pgnos.join(',')}, expected ${want.join(',')} of ${m.pageCount}`);
      if (m.badSizes > 0) fail(`page answer ${m.id} has ${m.badSizes} pages that are not 4096 bytes`);
    }
    if (!closedBy) {
      const unanswered = [...pageRequests].filter(([, left]) => left.length > 0).map(([id]) => id);
      if (unanswered.length > 0) fail(`page requests ${unanswered.join(',')} were never answered`);
    }
  } finally {
    env.stats.episodes++;
    await conn.close();
  }
}

function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'fatal':
      return `fatal ${outcome.code}`;
    case 'transport':
      return `close ${outcome.closeCode}`;
    case 'push':
      return `push: queued ${outcome.queued.map((m) => m.seq).join(',') || 'nothing'}${outcome.gap !== undefined ? `, seq_gap at ${outcome.gap}` : ''}`;
    case 'pages':
      return `pages ${outcome.id} (${outcome.pgnos.length} asked)`;
    case 'hello':
      return `welcome ${outcome.clientId}`;
    case 'presence':
      return outcome.tooLarge > 0 ? `presence: ${outcome.tooLarge} presence_too_large` : 'presence relayed';
    default:
      return 'nothing';
  }
}

const hex = (bytes: Uint8Array) => (bytes.length > 48 ? `${Buffer.from(bytes.subarray(0, 48)).toString('hex')}…` : Buffer.from(bytes).toString('hex'));

