import { afterEach, beforeEach, expect, test } from 'vitest';
import { openRaw, type RawSocket } from '../helpers/raw-socket.js';
import { serverQuery } from '../helpers/server-rows.js';
import { type Harness, startHarness } from '../helpers/sync-harness.js';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

let h: Harness<TodoReducers>;
beforeEach(async () => {
  h = await startHarness(todoReducers);
  const writer = h.client({ docId: 'big' });
  await writer.mutate.init().server;
  // Enough rows for a multi-level b-tree: dozens of pages.
  for (let i = 0; i < 400; i++) writer.mutate.addTodo({ id: `t${String(i).padStart(4, '0')}`, title: 'x'.repeat(200) });
  await writer.mutate.addTodo({ id: 'last', title: 'last' }).server;
});
afterEach(async () => {
  await h.close();
});

/**
 * Waits until `socket` has the commit at `lsn`. Another client's confirmation
 * says the server sent the commit, not that this socket has read it yet (a
 * fixed wait lost that race on a busy machine).
 */
async function caughtUp(socket: RawSocket, lsn: number): Promise<void> {
  await waitFor(() => socket.received.some((m) => m.type === 'commit' && m.lsn >= lsn), `the commit at LSN ${lsn} on the raw socket`);
}

test('a partial client gets the schema and every b-tree root in its snapshot, and any page on request, as of the LSN it holds', async () => {
  const full = await h.server.snapshot('big');
  expect(full.pageCount).toBeGreaterThan(20);
  const socket = await openRaw(h.url, 'big');
  const { lsn } = await socket.hello('partial-1', { partial: true });
  const snapshot = socket.received.find((m) => m.type === 'snapshot');
  expect(snapshot).toMatchObject({ lsn, pageCount: full.pageCount, done: true });
  const { results } = await serverQuery(h.server, 'big', ['SELECT rootpage FROM sqlite_schema WHERE rootpage > 0 ORDER BY rootpage']);
  const roots = results[0]!.map((r) => r.rootpage as number);
  expect(snapshot!.type === 'snapshot' && snapshot!.pages.map((p) => p.pgno)).toEqual([1, ...roots]);

  const from = socket.received.length;
  socket.send({ type: 'getPages', id: 7, pgnos: [5, 2, full.pageCount, full.pageCount + 3].map((pgno) => ({ pgno })) });
  const answer = await socket.next('pages', from);
  expect(answer).toMatchObject({ id: 7, lsn, pageCount: full.pageCount });
  // Sorted, past-the-end skipped, byte for byte the server's.
  expect(answer.pages.map((p) => p.pgno)).toEqual([2, 5, full.pageCount]);
  for (const page of answer.pages) expect(Buffer.from(page.data).equals(Buffer.from(full.pages[page.pgno - 1]!.data))).toBe(true);
  await socket.close();
});

test('a page answer follows every commit up to its LSN on the same socket', async () => {
  const socket = await openRaw(h.url, 'big');
  await socket.hello('partial-2', { partial: true });
  const writer = h.client({ docId: 'big' });
  const from = socket.received.length;
  const writes = Array.from({ length: 20 }, (_, i) => writer.mutate.addTodo({ id: `w${i}`, title: 'w' }));
  socket.send({ type: 'getPages', id: 1, pgnos: [{ pgno: 2 }] });
  await Promise.all(writes.map((w) => w.server));
  socket.send({ type: 'getPages', id: 2, pgnos: [{ pgno: 2 }] });
  // Answers go out in the order asked: the second one is the last.
  await waitFor(() => socket.received.slice(from).some((m) => m.type === 'pages' && m.id === 2), 'the answer to the second page request');
  let lastCommit = 0;
  const answered: number[] = [];
  for (const m of socket.received.slice(from)) {
    if (m.type === 'commit') lastCommit = m.lsn;
    if (m.type === 'pages') {
      expect(m.lsn).toBe(lastCommit === 0 ? m.lsn : lastCommit);
      answered.push(m.id);
    }
  }
  expect(answered).toEqual([1, 2]);
  await socket.close();
});

test('commits carry images only of the pages a partial client holds, and the numbers of the rest', async () => {
  const socket = await openRaw(h.url, 'big');
  await socket.hello('partial-3', { partial: true });
  let from = socket.received.length;
  socket.send({ type: 'getPages', id: 1, pgnos: [{ pgno: 5 }, { pgno: 6 }] });
  await socket.next('pages', from);
  const snapshotPages = socket.received.flatMap((m) => (m.type === 'snapshot' ? m.pages.map((p) => p.pgno) : []));

  // A write to every row changes most pages of the table.
  const writer = h.client({ docId: 'big' });
  from = socket.received.length;
  await writer.mutate.toggle({ id: 't0000' }).server;
  for (let i = 0; i < 400; i++) writer.mutate.rename({ id: `t${String(i).padStart(4, '0')}`, title: 'y'.repeat(200) });
  await caughtUp(socket, (await writer.mutate.toggle({ id: 'last' }).server).lsn);
  const commits = socket.received.slice(from).filter((m) => m.type === 'commit');
  expect(commits.length).toBeGreaterThan(0);
  const sentImages = new Set(commits.flatMap((c) => (c.type === 'commit' ? c.pages.map((p) => p.pgno) : [])));
  const forgotten = new Set(commits.flatMap((c) => (c.type === 'commit' ? c.forgotten.map((p) => p.pgno) : [])));
  for (const pgno of sentImages) expect([...snapshotPages, 5, 6]).toContain(pgno);
  expect(forgotten.size).toBeGreaterThan(10);

  // After forget, page 2's changes come as a number only.
  socket.send({ type: 'forget', pgnos: [{ pgno: 2 }] });
  // The server handles one socket's frames in order: once a page request sent
  // after the forget is answered, the forget has taken effect, and the writer's
  // commits below (which come through another socket) all follow it.
  socket.send({ type: 'getPages', id: 2, pgnos: [{ pgno: 5 }] });
  await waitFor(() => socket.received.some((m) => m.type === 'pages' && m.id === 2), 'the page answer after the forget');
  from = socket.received.length;
  await writer.mutate.toggle({ id: 't0000' }).server;
  for (let i = 0; i < 400; i++) writer.mutate.rename({ id: `t${String(i).padStart(4, '0')}`, title: 'z'.repeat(200) });
  await caughtUp(socket, (await writer.mutate.toggle({ id: 'last' }).server).lsn);
  const later = socket.received.slice(from).flatMap((m) => (m.type === 'commit' ? m.pages.map((p) => p.pgno) : []));
  expect(later).not.toContain(2);
  await socket.close();
});

test('a full client still gets every changed page', async () => {
  const socket = await openRaw(h.url, 'big');
  await socket.hello('full-1');
  const from = socket.received.length;
  const writer = h.client({ docId: 'big' });
  await caughtUp(socket, (await writer.mutate.rename({ id: 't0200', title: 'changed' }).server).lsn);
  const commit = socket.received.slice(from).find((m) => m.type === 'commit');
  expect(commit?.type === 'commit' && commit.forgotten).toEqual([]);
  expect(commit?.type === 'commit' && commit.pages.length).toBeGreaterThan(0);
  await socket.close();
});
