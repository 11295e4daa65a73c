import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { encodeMessage, type Mutation } from '@quire/core/protocol';
import type { SyncServerOptions } from '@quire/server';
import { Canary, type LatencyStats } from '../helpers/canary.js';
import { FuzzConnection } from '../helpers/fuzz-connection.js';
import { helloFrame, superjsonArgs } from '../helpers/fuzz-frames.js';
import { fuzzReducers, type FuzzReducers } from '../helpers/fuzz-reducers.js';
import { guardProcess } from '../helpers/process-guard.js';
import { serverQuery } from '../helpers/server-rows.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * One client floods the server while a canary on the same document keeps
 * making one mutation at a time. The server's limits must keep the flood
 * from starving the canary; each scenario also runs once with the limits
 * off, to show what they prevent. Latencies are printed, not asserted
 * against a clock: the assertions are about order (the canary is confirmed
 * while the flood is still going) and about outcomes.
 */
type Limits = NonNullable<SyncServerOptions<FuzzReducers>['limits']>;
const OFF: Limits = { maxQueuedMutations: Infinity, maxQueuedBytes: Infinity, maxPagesInFlight: Infinity, maxBufferedBytes: Infinity };
const guard = guardProcess();
const report: string[] = [];

let h: Harness<FuzzReducers> | undefined;
let canary: Canary<FuzzReducers> | undefined;
const connections: FuzzConnection[] = [];

async function start(limits: Limits = {}): Promise<{ h: Harness<FuzzReducers>; canary: Canary<FuzzReducers> }> {
  h = await startHarness(fuzzReducers, { limits });
  const client = h.client({ clientId: 'canary' });
  await client.mutate.init().server;
  canary = new Canary(client, () => client.mutate.bump({ id: 'canary' }));
  return { h, canary };
}

async function connect(clientId: string, options: { partial?: boolean; decodePages?: boolean } = {}): Promise<FuzzConnection> {
  // A flooder that decoded its 4 MB answers would take the CPU from the server it shares a process with.
  const conn = await FuzzConnection.open(h!.url, 'doc', { decodePages: options.decodePages ?? false });
  connections.push(conn);
  conn.send({ bytes: helloFrame(clientId, { partial: options.partial ?? false }), label: 'hello' });
  await conn.waitFor(() => conn.seen.some((m) => m.type === 'welcome') || conn.closed !== undefined, () => `the welcome of ${clientId}`);
  return conn;
}

/** The canary's latencies with nothing else going on. */
async function baseline(c: Canary<FuzzReducers>, ms = 1500): Promise<LatencyStats> {
  c.start();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await c.stop();
  return c.take();
}

const counter = async (id: string): Promise<number> => ((await serverQuery(h!.server, 'doc', [`SELECT n FROM counters WHERE id = '${id}'`])).results[0]![0]?.n as number | undefined) ?? 0;
const fmt = (s: LatencyStats) => `p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms, max ${s.max.toFixed(0)} ms over ${s.count}`;

/** Checks the canary converged, was counted exactly, and never saw an error; then closes the server. */
async function closeServer(): Promise<void> {
  await canary?.stop();
  await Promise.all(connections.splice(0).map((c) => c.close()));
  if (h) {
    await waitForSettled(canary!.client, h.server);
    await expectSamePages(canary!.client, h.server);
    expect(await counter('canary')).toBe(canary!.confirmed);
    expect(canary!.errors).toEqual([]);
    await h.close();
  }
  h = undefined;
  canary = undefined;
}

afterEach(async () => {
  await closeServer();
  expect(guard.describe()).toBe('none');
});
afterAll(() => {
  guard.stop();
  console.log(`flood report:\n  ${report.join('\n  ')}`);
});

describe('floods from one client are bounded by the server limits', { timeout: 180_000 }, () => {
  const PUSHES = 8000;
  const PER_PUSH = 10;

  /** Pushes PUSHES frames of PER_PUSH bumps as fast as the socket takes them; resolves with the canary's view once all are applied. */
  async function pushFlood(c: Canary<FuzzReducers>): Promise<{ during: LatencyStats; confirmedDuring: number; floodMs: number }> {
    const flooder = await connect('flooder');
    c.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = c.confirmed;
    c.take();
    const started = performance.now();
    for (let i = 0; i < PUSHES; i++) {
      const mutations: Mutation[] = Array.from({ length: PER_PUSH }, (_, j) => ({ seq: i * PER_PUSH + j + 1, name: 'bump', args: superjsonArgs({ id: 'flood' }) }));
      flooder.send({ bytes: encodeMessage({ type: 'push', mutations }), label: 'flood' });
    }
    await waitFor(async () => (await counter('flood')) === PUSHES * PER_PUSH, 'the flood to be applied', 60_000);
    const floodMs = performance.now() - started;
    const confirmedDuring = c.confirmed - before;
    await c.stop();
    expect(flooder.seen.filter((m) => m.type === 'error')).toEqual([]);
    return { during: c.take(), confirmedDuring, floodMs };
  }

  test(`${PUSHES} pushes of ${PER_PUSH} mutations as fast as possible: the canary is confirmed all along (maxQueuedMutations); with the limits off it waits behind the flood`, async () => {
    let c = (await start()).canary;
    const quiet = await baseline(c);
    const limited = await pushFlood(c);
    report.push(`push flood, limits on: ${PUSHES * PER_PUSH} mutations applied in ${limited.floodMs.toFixed(0)} ms; canary confirmed ${limited.confirmedDuring} meanwhile, ${fmt(limited.during)} (quiet: ${fmt(quiet)})`);
    await closeServer();
    c = (await start(OFF)).canary;
    const control = await pushFlood(c);
    report.push(`push flood, limits off: ${PUSHES * PER_PUSH} mutations applied in ${control.floodMs.toFixed(0)} ms; canary confirmed ${control.confirmedDuring} meanwhile, ${fmt(control.during)}`);
    expect(limited.confirmedDuring).toBeGreaterThanOrEqual(5);
    expect(control.confirmedDuring).toBeLessThan(limited.confirmedDuring);
  });

  test('pushes with huge mutation counts (40,000 per frame): handed to the coordinator maxQueuedMutations at a time', async () => {
    const { canary: c } = await start();
    const flooder = await connect('counts');
    c.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = c.confirmed;
    c.take();
    const started = performance.now();
    const FRAMES = 5;
    const PER_FRAME = 40_000;
    for (let f = 0; f < FRAMES; f++) {
      // Unknown reducer, no arguments: the smallest mutation there is, each one a rejection to record.
      const mutations: Mutation[] = Array.from({ length: PER_FRAME }, (_, i) => ({ seq: f * PER_FRAME + i + 1, name: 'x', args: '' }));
      const bytes = encodeMessage({ type: 'push', mutations });
      expect(bytes.length).toBeLessThan(1024 * 1024);
      flooder.send({ bytes, label: 'counts' });
    }
    await waitFor(async () => (await serverQuery(h!.server, 'doc', ["SELECT last_seq FROM __quire_clients WHERE client_id = 'counts'"])).results[0]![0]?.last_seq === FRAMES * PER_FRAME, 'all of them to be settled', 90_000);
    const confirmedDuring = c.confirmed - before;
    await c.stop();
    const during = c.take();
    report.push(`huge mutation counts: ${FRAMES * PER_FRAME} rejections in ${(performance.now() - started).toFixed(0)} ms; canary confirmed ${confirmedDuring} meanwhile, ${fmt(during)}`);
    expect(confirmedDuring).toBeGreaterThanOrEqual(5);
    expect(flooder.closed).toBeUndefined();
  });

  /** A document of about 4 MB that does not deflate, so page answers are big on the wire too. */
  async function bigDocument(): Promise<void> {
    const writer = h!.client({ clientId: 'writer' });
    await Promise.all(Array.from({ length: 16 }, (_, i) => writer.mutate.note({ id: `big-${i}`, body: randomBytes(187_500).toString('base64') }).server));
    await writer.close();
  }

  const REQUESTS = 2000;

  /**
   * Floods page requests and runs until the canary has `confirmations`
   * during the flood, and, for a flooder that does not read, until the
   * server has cut it off. Events, not a fixed window: on a busy machine 3 s
   * was too short for the server to pass maxBufferedBytes, and a stalled
   * flooder resumed before its cut-off read everything and was never cut.
   */
  async function pageFlood(c: Canary<FuzzReducers>, read: boolean, confirmations: number): Promise<{ during: LatencyStats; answers: number; flooder: FuzzConnection }> {
    await bigDocument();
    const flooder = await connect(read ? 'pages-reader' : 'pages-stalled', { partial: true });
    if (!read) flooder.ws.pause();
    c.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    c.take();
    const before = c.confirmed;
    const all = Array.from({ length: 1024 }, (_, i) => ({ pgno: i + 1 }));
    for (let id = 1; id <= REQUESTS; id++) flooder.send({ bytes: encodeMessage({ type: 'getPages', id, pgnos: all }), label: 'pages' });
    const answers = () => flooder.seen.filter((m) => m.type === 'pages').length;
    // Only the canary stays connected once the server has cut the flooder off.
    const cutOff = () => h!.server.health().connections === 1;
    await waitFor(() => c.confirmed - before >= confirmations && (read || cutOff()), `${confirmations} canary confirmations during the flood${read ? '' : ', and the stalled flooder cut off'}`, 60_000);
    // While the flood was still going: the reading flooder had not had all its answers.
    if (read) expect(answers()).toBeLessThan(REQUESTS);
    await c.stop();
    return { during: c.take(), answers: answers(), flooder };
  }

  test('2000 page requests of 1024 pages from a client that reads: the canary keeps going (maxPagesInFlight)', async () => {
    const { canary: c } = await start();
    const quiet = await baseline(c);
    const { during, answers } = await pageFlood(c, true, 3);
    report.push(`page flood (reading): ${answers} answers meanwhile; canary ${fmt(during)} (quiet: ${fmt(quiet)})`);
    // Each 4 MB answer takes the event loop for its read and deflate; one at a time per connection, the canary gets in between.
    expect(during.count).toBeGreaterThanOrEqual(3);
  });

  test('2000 page requests from a client that does not read: it is cut off as a slow consumer (maxBufferedBytes), the canary keeps going', async () => {
    const { canary: c } = await start({ maxBufferedBytes: 8 * 1024 * 1024, slowConsumerMs: 1000 });
    const { during, flooder } = await pageFlood(c, false, 5);
    flooder.ws.resume();
    await flooder.waitFor(() => flooder.closed !== undefined, () => 'the stalled flooder to be cut off', 60_000);
    report.push(`page flood (not reading): cut off with close ${flooder.closed!.code} after ${flooder.seen.filter((m) => m.type === 'pages').length} answers; canary ${fmt(during)}`);
    expect(flooder.closed!.code).toBe(1006);
    expect(during.count).toBeGreaterThanOrEqual(5);
  });

  test('200 connections from one client id: at most maxConnectionsPerClient stay open, the older ones get too_many_connections', async () => {
    const { canary: c } = await start({ maxConnectionsPerClient: 4 });
    c.start();
    const opened = await Promise.all(Array.from({ length: 200 }, () => FuzzConnection.open(h!.url, 'doc')));
    connections.push(...opened);
    for (const conn of opened) conn.send({ bytes: helloFrame('many'), label: 'hello' });
    await waitFor(() => opened.filter((conn) => conn.closed === undefined).length === 4, 'all but 4 connections to be closed', 30_000);
    await c.stop();
    const closed = opened.filter((conn) => conn.closed !== undefined);
    for (const conn of closed) {
      expect(conn.closed).toEqual({ code: 4429, reason: 'too_many_connections' });
      expect(conn.seen.filter((m) => m.type === 'error').map((m) => (m.type === 'error' ? m.code : ''))).toEqual(['too_many_connections']);
    }
    report.push(`connection flood: 196 of 200 closed with too_many_connections; canary ${fmt(c.take())}`);
    // The survivors are ordinary sessions.
    const survivor = opened.find((conn) => conn.closed === undefined)!;
    survivor.send({ bytes: encodeMessage({ type: 'push', mutations: [{ seq: 1, name: 'bump', args: superjsonArgs({ id: 'many' }) }] }), label: 'push' });
    await waitFor(async () => (await counter('many')) === 1, 'the survivor to be served');
  });
});

