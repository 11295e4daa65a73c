import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeMessage } from '@quire/core/protocol';
import { Canary } from '../helpers/canary.js';
import { withSeed } from '../helpers/client-pool.js';
import { hostileArgs, superjsonArgs } from '../helpers/fuzz-frames.js';
import { FUZZ_REJECTION_CODES, fuzzReducers, type FuzzReducers } from '../helpers/fuzz-reducers.js';
import { guardProcess, type ProcessGuard } from '../helpers/process-guard.js';
import { openRaw, type RawSocket } from '../helpers/raw-socket.js';
import { seedFromEnv } from '../helpers/seeded-random.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

const MAX_MESSAGE_BYTES = 1024 * 1024; // the server's default
// Bytes a push frame adds around one note's body: tag, version, count, seq, name, the args' length and their binary
// form. For a body near the limit the args' length takes 2 bytes more, and the body's string header 3 more (0x83 and a
// 3-byte length, where an empty body's is the one byte 0x40).
const pushOverhead = (id: string, seq: number) => encodeMessage({ type: 'push', mutations: [{ seq, name: 'note', args: superjsonArgs({ id, body: '' }) }] }).length + 5;

interface Settled {
  outcome: 'applied' | 'rejected';
  code?: string;
  message?: string;
}

describe('arguments hostile to reducers', () => {
  let h: Harness<FuzzReducers>;
  let guard: ProcessGuard;
  let canary: Canary<FuzzReducers>;
  let socket: RawSocket;
  let seq = 0;
  const clientId = 'hostile';
  const prototypes = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
  const before = prototypes.map((p) => Object.getOwnPropertyNames(p).sort());

  beforeAll(async () => {
    guard = guardProcess();
    h = await startHarness(fuzzReducers, { maxMessageBytes: MAX_MESSAGE_BYTES });
    const client = h.client({ clientId: 'canary' });
    await client.mutate.init().server;
    canary = new Canary(client, () => client.mutate.bump({ id: 'canary' }));
    canary.start(20);
    socket = await openRaw(h.url, 'doc');
    await socket.hello(clientId);
  });
  afterAll(async () => {
    await canary?.stop();
    await socket?.close();
    await h?.close();
    guard?.stop();
  });

  /**
   * Pushes one mutation on the raw socket, with a call to `refuse` behind it as a sentinel, and reads how
   * the server settled the first: journalled (applied) or in the rejections sent with a commit. The
   * sentinel's rejection comes with the commit that settles it, which is the first's or a later one.
   */
  async function push(name: string, args: string): Promise<Settled> {
    seq += 2;
    const from = socket.received.length;
    socket.send({ type: 'push', mutations: [{ seq: seq - 1, name, args }, { seq, name: 'refuse', args: superjsonArgs(null) }] });
    const rejections = () => socket.received.slice(from).flatMap((m) => (m.type === 'rejections' ? m.rejections : [])).filter((r) => r.clientId === clientId);
    await waitFor(() => rejections().some((r) => r.seq === seq) || socket.closed !== undefined, `the sentinel behind seq ${seq - 1}`);
    const rejection = rejections().find((r) => r.seq === seq - 1);
    const errors = socket.received.slice(from).filter((m) => m.type === 'error');
    expect(errors, `seq ${seq - 1}: no error frame`).toEqual([]);
    const { results } = await serverQuery(h.server, 'doc', [`SELECT name FROM applied WHERE client_id = '${clientId}' AND seq = ${seq - 1}`]);
    const applied = results[0]!.length === 1;
    expect(applied && rejection !== undefined, `seq ${seq - 1} (${name.slice(0, 20)}) both applied and rejected`).toBe(false);
    expect(applied || rejection !== undefined, `seq ${seq - 1} (${name.slice(0, 20)}) neither applied nor rejected`).toBe(true);
    if (rejection) expect(FUZZ_REJECTION_CODES, `seq ${seq - 1}: code ${rejection.code}: ${rejection.message.slice(0, 200)}`).toContain(rejection.code);
    return applied ? { outcome: 'applied' } : { outcome: 'rejected', code: rejection!.code, message: rejection!.message };
  }

  test('hostile argument shapes from fast-check: each is applied or rejected with a reducer-level code, nothing else happens', async () => {
    const seed = seedFromEnv();
    await withSeed(seed, async () => {
      const outcomes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('note', 'bump', 'echo', 'refuse'), hostileArgs, async (name, { label, args }) => {
          const settled = await push(name, args);
          const key = `${settled.outcome}${settled.code ? ` ${settled.code}` : ''}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          void label;
        }),
        { seed, numRuns: 250, endOnFailure: true },
      );
      // Both ways of settling happened.
      expect([...outcomes.keys()].some((k) => k.startsWith('applied'))).toBe(true);
      expect([...outcomes.keys()].some((k) => k.startsWith('rejected'))).toBe(true);
    });
  });

  test.each([
    ['__proto__ in the JSON', 'note', '{"json":{"__proto__":{"polluted":"yes"},"id":"p1","body":"x"}}'],
    ['constructor.prototype in the JSON', 'echo', '{"json":{"constructor":{"prototype":{"polluted":"yes"}}}}'],
    ['a meta path through __proto__', 'echo', JSON.stringify({ json: { a: '1' }, meta: { values: { '__proto__.polluted': ['bigint'] } } })],
    ['a meta path through constructor.prototype', 'echo', JSON.stringify({ json: { a: '1' }, meta: { values: { 'constructor.prototype.polluted': ['bigint'] } } })],
    ['a referential equality into __proto__', 'echo', JSON.stringify({ json: { a: {} }, meta: { referentialEqualities: { a: ['__proto__.polluted'] } } })],
    ['arrays nested 100,000 deep', 'echo', `{"json":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['objects nested 50,000 deep', 'note', `{"json":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`],
    ['meta values nested 50,000 deep', 'echo', `{"json":{"a":1},"meta":{"values":${'{"a":'.repeat(50_000)}["bigint"]${'}'.repeat(50_000)}}}`],
    ['20,000 meta annotations', 'echo', JSON.stringify({ json: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, '1'])), meta: { values: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, ['bigint']])) } })],
    ['a bigint of 100,000 digits', 'bump', JSON.stringify({ json: { id: '9'.repeat(100_000) }, meta: { values: { id: ['bigint'] } } })],
    ['2^63, one past SQLite integers', 'bump', JSON.stringify({ json: { id: '9223372036854775808' }, meta: { values: { id: ['bigint'] } } })],
    ['-2^63, the smallest SQLite integer', 'bump', JSON.stringify({ json: { id: '-9223372036854775808' }, meta: { values: { id: ['bigint'] } } })],
    ['NaN, -0, Infinity', 'bump', JSON.stringify({ json: { id: 'NaN' }, meta: { values: { id: ['number'] } } })],
    ['1e308 and 5e-324', 'echo', '{"json":{"a":1e308,"b":5e-324,"c":-0,"d":9007199254740993}}'],
  ])('%s: settled like any other mutation', async (_label, name, args) => {
    const settled = await push(name, args);
    expect(['applied', 'rejected']).toContain(settled.outcome);
  });

  test('a body just under the frame limit is applied whole; one byte over is refused with message_too_large and not written', async () => {
    const id = 'near-limit';
    const sentinel = { seq: seq + 2, name: 'refuse', args: superjsonArgs(null) };
    const body = 'n'.repeat(MAX_MESSAGE_BYTES - pushOverhead(id, seq + 1) - encodeMessage({ type: 'push', mutations: [sentinel] }).length + 3);
    const fits = encodeMessage({ type: 'push', mutations: [{ seq: seq + 1, name: 'note', args: superjsonArgs({ id, body }) }, sentinel] });
    expect(fits.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(fits.length).toBeGreaterThan(MAX_MESSAGE_BYTES - 8);
    expect(await push('note', superjsonArgs({ id, body }))).toEqual({ outcome: 'applied' });
    const { results } = await serverQuery(h.server, 'doc', [`SELECT length(body) AS n FROM notes WHERE id = '${id}'`]);
    expect(results[0]).toEqual([{ n: body.length }]);

    // One byte more, on a connection of its own: the server refuses the frame and closes that connection only.
    const other = await openRaw(h.url, 'doc');
    await other.hello('over-limit');
    const overFrame = (extra: number) => encodeMessage({ type: 'push', mutations: [{ seq: 1, name: 'note', args: superjsonArgs({ id: 'over-limit', body: body + 'n'.repeat(extra) }) }] });
    const over = overFrame(MAX_MESSAGE_BYTES + 1 - overFrame(0).length);
    expect(over.length).toBe(MAX_MESSAGE_BYTES + 1);
    const from = other.received.length;
    other.sendBytes(over);
    const error = await other.next('error', from);
    expect({ code: error.code, fatal: error.fatal }).toEqual({ code: 'message_too_large', fatal: true });
    expect((await other.waitClosed()).code).toBe(4400);
    const after = await serverQuery(h.server, 'doc', ["SELECT count(*) AS n FROM notes WHERE id = 'over-limit'", "SELECT count(*) AS n FROM applied WHERE client_id = 'over-limit'"]);
    expect(after.results).toEqual([[{ n: 0 }], [{ n: 0 }]]);
  });

  test('a real client holds back a mutation over the limit (mutation_too_large) and keeps its connection', async () => {
    const client = h.client({ clientId: 'big-writer' });
    await client.mutate.init().server;
    const big = client.mutate.note({ id: 'too-big', body: 'b'.repeat(MAX_MESSAGE_BYTES) });
    await big.local;
    await expect.poll(() => client.status().lastError?.code, { timeout: 10_000 }).toBe('mutation_too_large');
    expect(client.status().connection).toBe('connected');
    const { results } = await serverQuery(h.server, 'doc', ["SELECT count(*) AS n FROM notes WHERE id = 'too-big'"]);
    expect(results[0]).toEqual([{ n: 0 }]);
    await client.close();
  });

  // A rejection goes into the commit log, the RejectionIndex (1000 per client id, in memory) and every
  // client's commit frame, so what it quotes of the client's input is bounded: `prepareCall` quotes at most
  // 200 characters of an unknown name, and `runBatch` cuts any message to 1 KiB. Unbounded, a client
  // sending 1 MiB names would make the server hold and fan out 1 MiB per mutation.
  test('a rejection quotes at most a few KiB of what the client sent', async () => {
    const settled = await push('x'.repeat(900_000), superjsonArgs({}));
    expect(settled.code).toBe('unknown_reducer');
    expect(settled.message!.length).toBeLessThan(4096);
  });

  test('the canary kept confirming, nothing polluted a prototype, nothing escaped as an uncaught error', async () => {
    await canary.stop();
    expect(canary.errors).toEqual([]);
    expect(canary.confirmed).toBeGreaterThan(0);
    await waitForSettled(canary.client, h.server);
    await expectSamePages(canary.client, h.server);
    const { results } = await serverQuery(h.server, 'doc', ["SELECT n FROM counters WHERE id = 'canary'"]);
    expect(results[0]).toEqual([{ n: canary.confirmed }]);
    expect(prototypes.map((p) => Object.getOwnPropertyNames(p).sort())).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(socket.closed).toBeUndefined();
    expect(guard.describe()).toBe('none');
  });
});
