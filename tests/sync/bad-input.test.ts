import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QuireError, createClient, type QuireClient } from '@quire/core';
import { PROTOCOL_VERSION, encodeMessage, type ClientMessage, type Mutation } from '@quire/core/protocol';
import { describe as describeFrames, openRaw, type RawSocket } from '../helpers/raw-socket.js';
import { expectSameSnapshot, serverRows } from '../helpers/server-state.js';
import { expectSamePages, startHarness, waitForSettled, type Harness } from '../helpers/sync-harness.js';
import { todoReducers, type TodoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';
import { seededRandom } from '../helpers/seeded-random.js';

const MAX_MESSAGE_BYTES = 64 * 1024;
/** Close code the server uses after a fatal protocol error (packages/server/src/session.ts). */
const CLOSE_PROTOCOL_ERROR = 4400;
const PROTOCOL_CODES = ['malformed_frame', 'unknown_message', 'unsupported_version', 'unexpected_message', 'message_too_large'];

/** superjson text for reducer arguments, as client.mutate would send it. */
const json = (value: unknown) => JSON.stringify({ json: value });
const TODO_ROWS = 'SELECT id, title, completed, author FROM todos ORDER BY id';

describe('bad input: a clear error, nothing written, other clients unaffected', () => {
  let h: Harness<TodoReducers>;
  let good: QuireClient<TodoReducers>;
  let goodCount = 0;
  let rawCount = 0;

  beforeAll(async () => {
    h = await startHarness(todoReducers, { maxMessageBytes: MAX_MESSAGE_BYTES });
    good = h.client({ clientId: 'good' });
    await good.mutate.init().server;
    await good.mutate.addTodo({ id: 'seed', title: 'seed' }).server;
  });
  afterAll(() => h?.close());

  const raw = (): Promise<RawSocket> => openRaw(h.url, 'doc');
  const freshId = (prefix: string) => `${prefix}_${++rawCount}`;

  /** The well-behaved client still gets its mutations confirmed, and matches the server page for page. */
  async function expectGoodClientWorks(): Promise<void> {
    const id = `good-${++goodCount}`;
    const { lsn } = await good.mutate.addTodo({ id, title: id }).server;
    expect(lsn).toBeGreaterThan(0);
    expect(good.status().connection).toBe('connected');
    await waitForSettled(good, h.server);
    await expectSamePages(good, h.server);
    expect((await good.query('SELECT count(*) AS n FROM todos WHERE id = ?', [id]))[0]).toEqual({ n: 1 });
  }

  /**
   * Runs `act` on a raw socket, then asserts the server answered with one
   * fatal error frame `code`, closed the socket with 4400, and wrote nothing.
   */
  async function expectFatal(code: string, act: (socket: RawSocket) => Promise<void> | void, open: () => Promise<RawSocket> = () => raw()): Promise<RawSocket> {
    const before = await h.server.snapshot('doc');
    const socket = await open();
    await act(socket);
    // From 0: a refusal at upgrade time can arrive before the socket reports open.
    const error = await socket.next('error', 0);
    expect({ code: error.code, fatal: error.fatal, seq: error.seq }).toEqual({ code, fatal: true, seq: 0 });
    // Messages end with what to do.
    expect(error.message.length).toBeGreaterThan(10);
    const closed = await socket.waitClosed();
    expect(closed.code).toBe(CLOSE_PROTOCOL_ERROR);
    expect(closed.reason).toBe(code);
    // Exactly one error frame, and no commit: nothing was applied for this socket.
    expect(describeFrames(socket.received.filter((m) => m.type !== 'welcome' && m.type !== 'snapshot'))).toBe(describeFrames([error]));
    expectSameSnapshot(await h.server.snapshot('doc'), before, `after ${code}`);
    await expectGoodClientWorks();
    return socket;
  }

  describe('malformed frames (fatal)', () => {
    test('random bytes with an unknown tag: unknown_message', async () => {
      const rand = seededRandom(1);
      const bytes = Uint8Array.from({ length: 64 }, () => rand.int(256));
      bytes[0] = 0xee;
      await expectFatal('unknown_message', (s) => s.sendBytes(bytes));
    });

    test('an empty binary frame: malformed_frame', async () => {
      await expectFatal('malformed_frame', (s) => s.sendBytes(new Uint8Array(0)));
    });

    test('a hello header followed by garbage: malformed_frame', async () => {
      // hello (tag 1, version 3), protocolVersion 1, appVersion 0, then a clientId whose length claims far more bytes than the frame has.
      await expectFatal('malformed_frame', (s) => s.sendBytes(Uint8Array.from([0x01, 0x03, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x61])));
    });

    test('a truncated hello: malformed_frame', async () => {
      const hello = encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId: freshId('trunc'), lastLsn: 0, fromSeq: 0, partial: false, held: [] });
      await expectFatal('malformed_frame', (s) => s.sendBytes(hello.subarray(0, hello.length - 1)));
    });

    test('a valid hello with a trailing byte: malformed_frame', async () => {
      const hello = encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId: freshId('trail'), lastLsn: 0, fromSeq: 0, partial: false, held: [] });
      await expectFatal('malformed_frame', (s) => s.sendBytes(Uint8Array.from([...hello, 0])));
    });

    test('a truncated push after a good hello: malformed_frame, none of its mutations applied', async () => {
      const clientId = freshId('truncpush');
      const push = encodeMessage({
        type: 'push',
        mutations: [
          { seq: 1, name: 'addTodo', args: json({ id: `${clientId}-1`, title: 'never' }) },
          { seq: 2, name: 'addTodo', args: json({ id: `${clientId}-2`, title: 'never' }) },
        ],
      });
      await expectFatal('malformed_frame', async (s) => {
        await s.hello(clientId);
        s.sendBytes(push.subarray(0, push.length - 3));
      });
      expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${clientId}%'`)).toEqual([]);
    });

    test('a text frame: malformed_frame', async () => {
      await expectFatal('malformed_frame', (s) => s.sendText(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, clientId: 'texty' })));
    });

    test('a text frame after a good hello: malformed_frame', async () => {
      await expectFatal('malformed_frame', async (s) => {
        await s.hello(freshId('text'));
        s.sendText('push');
      });
    });

    test('seeded fuzz: 40 random frames at once each get a fatal protocol error while the good client writes', async () => {
      const rand = seededRandom(42);
      const before = await h.server.snapshot('doc');
      const frames = Array.from({ length: 40 }, (_, i) => {
        const bytes = Uint8Array.from({ length: 1 + rand.int(200) }, () => rand.int(256));
        // Half of them start with a real tag and version, so decoding gets past the header.
        if (i % 2 === 0 && bytes.length > 2) {
          bytes[0] = rand.chance(0.5) ? 1 : 2;
          bytes[1] = 1;
        }
        return bytes;
      });
      const sockets = await Promise.all(frames.map(() => raw()));
      sockets.forEach((s, i) => s.sendBytes(frames[i]!));
      const results = await Promise.all(
        sockets.map(async (s, i) => {
          const error = await s.next('error', 0, `an error frame for fuzz frame ${i} (${Buffer.from(frames[i]!).toString('hex').slice(0, 40)}…)`);
          const closed = await s.waitClosed();
          return { code: error.code, fatal: error.fatal, close: closed.code };
        }),
      );
      for (const [i, r] of results.entries()) {
        expect(PROTOCOL_CODES, `fuzz frame ${i}: code ${r.code}`).toContain(r.code);
        expect(r.fatal, `fuzz frame ${i}`).toBe(true);
        expect(r.close, `fuzz frame ${i}`).toBe(CLOSE_PROTOCOL_ERROR);
      }
      // More than one kind of failure was exercised.
      expect(new Set(results.map((r) => r.code)).size).toBeGreaterThan(1);
      expectSameSnapshot(await h.server.snapshot('doc'), before, 'after fuzz');
      await expectGoodClientWorks();
    });
  });

  describe('handshake errors (fatal)', () => {
    test('a push before hello: unexpected_message', async () => {
      const clientId = freshId('early');
      await expectFatal('unexpected_message', (s) => s.send({ type: 'push', mutations: [{ seq: 1, name: 'addTodo', args: json({ id: clientId, title: 'early' }) }] }));
      expect(await serverRows(h, `SELECT id FROM todos WHERE id = '${clientId}'`)).toEqual([]);
    });

    test('a server-only message sent by a client: unexpected_message', async () => {
      await expectFatal('unexpected_message', (s) => s.sendBytes(encodeMessage({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, appVersion: 0, schemaVersion: 0, rejections: [], lsn: 1, maxMessageBytes: 1024 })));
    });

    test('a second hello on one connection: unexpected_message', async () => {
      await expectFatal('unexpected_message', async (s) => {
        const clientId = freshId('twice');
        await s.hello(clientId);
        s.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId, lastLsn: 0, fromSeq: 0, partial: false, held: [] });
      });
    });

    test('a hello with the wrong protocol version: unsupported_version', async () => {
      await expectFatal('unsupported_version', (s) =>
        s.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION + 1, appVersion: 0, clientId: freshId('future'), lastLsn: 0, fromSeq: 0, partial: false, held: [] }),
      );
    });

    test('a hello frame with an unknown message version byte: unsupported_version', async () => {
      const hello = encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId: freshId('v9'), lastLsn: 0, fromSeq: 0, partial: false, held: [] });
      hello[1] = 9;
      await expectFatal('unsupported_version', (s) => s.sendBytes(hello));
    });

    test('a hello claiming an LSN the server never reached gets a full snapshot at the real LSN', async () => {
      const before = await h.server.snapshot('doc');
      const socket = await raw();
      const { lsn } = await socket.hello(freshId('ahead'), { lastLsn: Number.MAX_SAFE_INTEGER, fromSeq: 7 });
      expect(lsn).toBe(before.lsn);
      const pages = socket.received.filter((m) => m.type === 'snapshot').flatMap((m) => (m.type === 'snapshot' ? m.pages : []));
      expect(pages.length).toBe(before.pageCount);
      expect(socket.received.filter((m) => m.type === 'error')).toEqual([]);
      expectSameSnapshot(await h.server.snapshot('doc'), before, 'after a hello from the future');
      await socket.close();
    });

    test.each([
      ['empty', ''],
      ['with a space', 'has space'],
      ['with a slash', '../etc'],
      ['non-ASCII', 'ünïcode'],
      ['129 characters', 'x'.repeat(129)],
      ['the reserved server id', '__server'],
    ])('a hello with an invalid clientId (%s): invalid_client_id', async (_label, clientId) => {
      await expectFatal('invalid_client_id', (s) => s.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, appVersion: 0, clientId, lastLsn: 0, fromSeq: 0, partial: false, held: [] }));
    });

    // Refused up front: a client made with a bad id would be refused by the
    // server and reconnect forever.
    test('createClient refuses an invalid clientId up front, as it does an invalid docId', () => {
      let error: unknown;
      try {
        const c = createClient({ url: h.url, docId: 'doc', clientId: 'has space', reducers: todoReducers, offline: true });
        void c.close();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QuireError);
      expect((error as QuireError).code).toBe('invalid_client_id');
    });

    test.each([
      ['with a space', '/?doc=bad%20id'],
      ['missing', '/'],
      ['empty', '/?doc='],
      ['a path', '/?doc=..%2Fescape'],
      ['129 characters', `/?doc=${'d'.repeat(129)}`],
    ])('an invalid docId in the URL (%s): invalid_doc_id before any hello, no folder created', async (_label, path) => {
      const folders = readdirSync(h.dataDir).sort();
      const socket = await expectFatal('invalid_doc_id', () => {}, () => openRaw(`${h.url}${path}`, null));
      expect(socket.received.map((m) => m.type)).toEqual(['error']);
      expect(readdirSync(h.dataDir).sort()).toEqual(folders);
    });
  });

  describe('oversized messages', () => {
    test('a push over maxMessageBytes (64 KiB): message_too_large, fatal, not applied', async () => {
      const clientId = freshId('big');
      let frameBytes = 0;
      await expectFatal('message_too_large', async (s) => {
        await s.hello(clientId);
        const frame = encodeMessage({ type: 'push', mutations: [{ seq: 1, name: 'addTodo', args: json({ id: clientId, title: 'x'.repeat(100 * 1024) }) }] });
        frameBytes = frame.length;
        s.sendBytes(frame);
      });
      expect(frameBytes).toBeGreaterThan(MAX_MESSAGE_BYTES);
      expect(await serverRows(h, `SELECT id FROM todos WHERE id = '${clientId}'`)).toEqual([]);
    });

    test('a push just under maxMessageBytes is accepted', async () => {
      const clientId = freshId('fits');
      const socket = await raw();
      await socket.hello(clientId);
      const title = 'y'.repeat(MAX_MESSAGE_BYTES - 200);
      const frame = encodeMessage({ type: 'push', mutations: [{ seq: 1, name: 'addTodo', args: json({ id: clientId, title }) }] });
      expect(frame.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const from = socket.received.length;
      socket.sendBytes(frame);
      await socket.next('commit', from);
      expect(socket.received.slice(from).filter((m) => m.type === 'rejections')).toEqual([]);
      expect(await serverRows(h, `SELECT length(title) AS n FROM todos WHERE id = '${clientId}'`)).toEqual([{ n: title.length }]);
      await socket.close();
    });

    test('a frame far over the limit is cut by the transport (close 1009), nothing written, server unaffected', async () => {
      const clientId = freshId('huge');
      const before = await h.server.snapshot('doc');
      const socket = await raw();
      await socket.hello(clientId);
      socket.sendBytes(encodeMessage({ type: 'push', mutations: [{ seq: 1, name: 'addTodo', args: json({ id: clientId, title: 'z'.repeat(5 * MAX_MESSAGE_BYTES) }) }] }));
      const closed = await socket.waitClosed();
      expect(closed.code).toBe(1009);
      expectSameSnapshot(await h.server.snapshot('doc'), before, 'after a huge frame');
      await expectGoodClientWorks();
    });
  });

  describe('oversized backlog from a well-behaved client', () => {
    // The welcome carries the server's limit; the client splits its pushes to fit.
    test('a client whose offline backlog encodes to more than maxMessageBytes still syncs it', async () => {
      const c = h.client({ clientId: freshId('backlog') });
      await waitFor(() => c.status().connection === 'connected' && c.status().lsn > 0, 'backlog client to connect');
      c.disconnect();
      // 1000 × ~150 bytes ≈ 150 KB: over the 64 KiB limit in one frame, far under it per mutation.
      for (let i = 0; i < 1000; i++) c.mutate.addTodo({ id: `${c.clientId}-${i}`, title: 'x'.repeat(100) });
      c.connect();
      try {
        await waitFor(() => c.status().pending === 0, `the backlog to sync (status ${JSON.stringify(c.status())})`, 5_000);
        expect(await serverRows(h, `SELECT count(*) AS n FROM todos WHERE id LIKE '${c.clientId}-%'`)).toEqual([{ n: 1000 }]);
      } finally {
        await c.close();
      }
    });

    test('one mutation larger than maxMessageBytes is held back with mutation_too_large; the connection stays up', async () => {
      const c = h.client({ clientId: freshId('toobig') });
      try {
        await waitFor(() => c.status().connection === 'connected' && c.status().lsn > 0, 'client to connect');
        const before = c.mutate.addTodo({ id: `${c.clientId}-before`, title: 'small' });
        await before.server;
        const big = c.mutate.addTodo({ id: `${c.clientId}-big`, title: 'b'.repeat(MAX_MESSAGE_BYTES) });
        await big.local;
        await waitFor(() => c.status().lastError?.code === 'mutation_too_large', 'the status to report mutation_too_large');
        expect(c.status().lastError?.message).toContain(`larger than the server's limit of ${MAX_MESSAGE_BYTES} bytes`);
        // Held back, not sent: the server never saw it and did not close the connection.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(c.status()).toMatchObject({ connection: 'connected', pending: 1 });
        expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${c.clientId}-%' ORDER BY id`)).toEqual([{ id: `${c.clientId}-before` }]);
      } finally {
        await c.close();
      }
    });
  });

  describe('rejected mutations: reported in the commit, connection kept, only __quire_clients advances', () => {
    test.each([
      ['an unknown reducer', 'dropEverything', json({}), 'unknown_reducer'],
      ['an inherited property as reducer name', 'constructor', json({}), 'unknown_reducer'],
      ['__proto__ as reducer name', '__proto__', json({}), 'unknown_reducer'],
      ['a number where addTodo wants a string id', 'addTodo', json({ id: 5, title: 'typed wrong' }), 'invalid_args'],
      ['an empty id (zod min(1))', 'addTodo', json({ id: '', title: 'empty id' }), 'invalid_args'],
      ['a missing title', 'addTodo', json({ id: 'no-title' }), 'invalid_args'],
      ['args that are not JSON', 'addTodo', '{not json', 'invalid_args'],
      ['args that are JSON null', 'addTodo', 'null', 'invalid_args'],
      ['plain JSON that is not superjson', 'addTodo', JSON.stringify({ id: 'plain', title: 'plain' }), 'invalid_args'],
      ['an unknown superjson transform', 'addTodo', JSON.stringify({ json: { id: 'x', title: 'y' }, meta: { values: { id: ['custom', 'nope'] } } }), 'invalid_args'],
      ['a __proto__ key in superjson meta', 'addTodo', JSON.stringify({ json: { id: 'p', title: 'p' }, meta: { values: { '__proto__.x': ['bigint'] } } }), 'invalid_args'],
    ])('%s: %s → %s', async (_label, name, args, code) => {
      const clientId = freshId('rej');
      const rowsBefore = await serverRows(h, TODO_ROWS);
      const before = await h.server.snapshot('doc');
      const socket = await raw();
      await socket.hello(clientId);
      const from = socket.received.length;
      socket.send({ type: 'push', mutations: [{ seq: 1, name, args }] });
      const commit = await socket.next('commit', from, `the commit that settles ${clientId}'s mutation`);
      // The client's own rejections come right before the commit that settles them.
      const sent = socket.received[socket.received.indexOf(commit) - 1];
      if (sent?.type !== 'rejections') throw new Error(`expected a rejections frame before the commit, got ${sent?.type}`);
      expect(sent.lsn).toBe(commit.lsn);
      expect(sent.rejections).toHaveLength(1);
      expect(sent.rejections[0]).toMatchObject({ clientId, seq: 1, code });
      expect(sent.rejections[0]!.message.length).toBeGreaterThan(10);
      expect(commit.lsn).toBe(before.lsn + 1);
      // Not an error frame, and the connection stays open.
      expect(socket.received.filter((m) => m.type === 'error')).toEqual([]);
      expect(socket.closed).toBeUndefined();
      // The todo rows are unchanged; only this client's last_seq was recorded.
      expect(await serverRows(h, TODO_ROWS)).toEqual(rowsBefore);
      expect(await serverRows(h, `SELECT client_id, last_seq FROM __quire_clients WHERE client_id = '${clientId}'`)).toEqual([{ client_id: clientId, last_seq: 1 }]);
      // The same connection can go on with a good mutation.
      const next = socket.received.length;
      socket.send({ type: 'push', mutations: [{ seq: 2, name: 'addTodo', args: json({ id: `${clientId}-ok`, title: 'after rejection' }) }] });
      await socket.next('commit', next);
      expect(socket.received.slice(next).filter((m) => m.type === 'rejections')).toEqual([]);
      expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${clientId}%'`)).toEqual([{ id: `${clientId}-ok` }]);
      await socket.close();
      await expectGoodClientWorks();
    });
  });

  describe('seq discipline', () => {
    const mutation = (clientId: string, seq: number, suffix = String(seq)): Mutation => ({
      seq,
      name: 'addTodo',
      args: json({ id: `${clientId}-${suffix}`, title: suffix }),
    });
    const add = (clientId: string, seq: number, suffix?: string): ClientMessage => ({ type: 'push', mutations: [mutation(clientId, seq, suffix)] });

    test('a gap in seq: seq_gap error for that seq (not fatal), the mutation not applied, the stream resumes in order', async () => {
      const clientId = freshId('gap');
      const socket = await raw();
      await socket.hello(clientId);
      let from = socket.received.length;
      socket.send(add(clientId, 1));
      await socket.next('commit', from);

      const before = await h.server.snapshot('doc');
      from = socket.received.length;
      socket.send(add(clientId, 3));
      const error = await socket.next('error', from);
      expect({ code: error.code, seq: error.seq, fatal: error.fatal }).toEqual({ code: 'seq_gap', seq: 3, fatal: false });
      expect(error.message).toContain('expected seq 2');
      // Give a wrongly accepted mutation time to commit before checking it did not.
      await expectGoodClientWorks();
      expect(socket.closed).toBeUndefined();
      const afterGap = await h.server.snapshot('doc');
      expect(afterGap.lsn).toBe(before.lsn + 1); // only the good client's commit
      expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${clientId}-%' ORDER BY id`)).toEqual([{ id: `${clientId}-1` }]);
      expect(await serverRows(h, `SELECT last_seq FROM __quire_clients WHERE client_id = '${clientId}'`)).toEqual([{ last_seq: 1 }]);

      // The same connection resumes at 2, then 3 is accepted.
      from = socket.received.length;
      socket.send({ type: 'push', mutations: [mutation(clientId, 2), mutation(clientId, 3)] });
      await waitFor(() => socket.received.slice(from).some((m) => m.type === 'commit'), 'commit of seq 2 and 3');
      await waitFor(async () => (await serverRows(h, `SELECT count(*) AS n FROM todos WHERE id LIKE '${clientId}-%'`))[0]?.n === 3, 'seq 2 and 3 to apply');
      expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${clientId}-%' ORDER BY id`)).toEqual([1, 2, 3].map((n) => ({ id: `${clientId}-${n}` })));
      expect(socket.received.slice(from).filter((m) => m.type === 'error')).toEqual([]);
      await socket.close();
    });

    test('a gap inside one push: the mutations before it apply, the gap and everything after it do not', async () => {
      const clientId = freshId('midgap');
      const socket = await raw();
      await socket.hello(clientId);
      const from = socket.received.length;
      socket.send({
        type: 'push',
        mutations: [1, 2, 4, 5].map((seq) => ({ seq, name: 'addTodo', args: json({ id: `${clientId}-${seq}`, title: String(seq) }) })),
      });
      const error = await socket.next('error', from);
      expect({ code: error.code, seq: error.seq, fatal: error.fatal }).toEqual({ code: 'seq_gap', seq: 4, fatal: false });
      await socket.next('commit', from);
      await expectGoodClientWorks();
      expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${clientId}-%' ORDER BY id`)).toEqual([{ id: `${clientId}-1` }, { id: `${clientId}-2` }]);
      expect(await serverRows(h, `SELECT last_seq FROM __quire_clients WHERE client_id = '${clientId}'`)).toEqual([{ last_seq: 2 }]);
      await socket.close();
    });

    test('seq 0 is a gap: seq_gap, nothing written', async () => {
      const clientId = freshId('zero');
      const before = await h.server.snapshot('doc');
      const socket = await raw();
      await socket.hello(clientId);
      const from = socket.received.length;
      socket.send(add(clientId, 0));
      const error = await socket.next('error', from);
      expect({ code: error.code, seq: error.seq, fatal: error.fatal }).toEqual({ code: 'seq_gap', seq: 0, fatal: false });
      expectSameSnapshot(await h.server.snapshot('doc'), before, 'after seq 0');
      await socket.close();
      await expectGoodClientWorks();
    });

    test('a resent seq is skipped silently: applied once, even with different arguments and on a new connection', async () => {
      const clientId = freshId('resend');
      const first = await raw();
      await first.hello(clientId);
      let from = first.received.length;
      first.send(add(clientId, 1, 'original'));
      await first.next('commit', from);
      const before = await h.server.snapshot('doc');
      from = first.received.length;
      first.send(add(clientId, 1, 'replayed'));
      await first.close();
      // A new connection for the same client replays it again, then continues at 2.
      const second = await raw();
      await second.hello(clientId, { fromSeq: 1 });
      from = second.received.length;
      second.send({ type: 'push', mutations: [mutation(clientId, 1, 'replayed-again'), mutation(clientId, 2, 'next')] });
      const commit = await second.next('commit', from);
      expect(commit.lsn).toBe(before.lsn + 1);
      expect(second.received.filter((m) => m.type === 'error')).toEqual([]);
      expect(await serverRows(h, `SELECT id FROM todos WHERE id LIKE '${clientId}-%' ORDER BY id`)).toEqual([{ id: `${clientId}-next` }, { id: `${clientId}-original` }]);
      await second.close();
    });
  });

  test('the good client saw no errors during all of this', async () => {
    await expectGoodClientWorks();
    expect(good.status().lastError).toBeUndefined();
  });
});
