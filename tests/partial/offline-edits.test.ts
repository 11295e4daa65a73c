import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createClient, type QuireClient } from '@quire/core';
import { PageAnswerGate } from '../helpers/page-answer-gate.js';
import { type Harness, startHarness, waitForSettled } from '../helpers/sync-harness.js';
import { type TodoReducers, todoReducers } from '../helpers/todo-reducers.js';
import { waitFor } from '../helpers/wait-for.js';

// A partial replica edited offline. Page answers are held back at the
// client's socket, so a fetch in flight when the socket closes is lost every
// time (the race behind e2e offline.test.ts failing about 1 run in 10).
let h: Harness<TodoReducers>;
const open: QuireClient<TodoReducers>[] = [];
beforeEach(async () => {
  h = await startHarness(todoReducers);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await h.close();
});

const LIST = 'SELECT title, completed FROM todos ORDER BY id';
type Item = { title: string; completed: number };
const show = (rows: readonly Item[]) => rows.map((r) => `${r.title}${r.completed ? ' ✓' : ''}`);

function gated(docId: string, gate: PageAnswerGate): QuireClient<TodoReducers> {
  const client = createClient({ url: h.url, docId, reducers: todoReducers, partial: true, WebSocket: gate.WebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
  open.push(client);
  return client;
}

describe('offline edits on a partial replica', () => {
  test('apply at once and show in live queries, with no page fetch needed for what the client wrote', async () => {
    const gate = new PageAnswerGate();
    const a = gated('list', gate);
    let shown: string[] = [];
    a.subscribe<Item>(LIST, [], (rows) => (shown = show(rows)));
    await a.mutate.init().server;
    await a.mutate.addTodo({ id: '1', title: 'shared 1' }).server;
    await a.mutate.addTodo({ id: '2', title: 'shared 2' }).server;
    const b = h.client({ docId: 'list', partial: true });
    await b.mutate.init().server;
    await waitForSettled(a, h.server, 'list');
    await waitFor(() => shown.join() === 'shared 1,shared 2', `a's list to show both items (shows ${JSON.stringify(shown)})`);

    a.disconnect();
    const edits = [a.mutate.addTodo({ id: '3', title: 'offline add' }), a.mutate.toggle({ id: '1' }), a.mutate.remove({ id: '2' })];
    await Promise.all(edits.map((e) => e.local));
    await waitFor(() => shown.join() === 'shared 1 ✓,offline add', `a's list to show its offline edits (shows ${JSON.stringify(shown)})`);
    expect(a.status()).toMatchObject({ pending: 3, lastError: undefined });

    await b.mutate.addTodo({ id: '0', title: 'b while a is offline' }).server;
    gate.holding = false;
    a.connect();
    await Promise.all(edits.map((e) => e.server));
    await waitForSettled(a, h.server, 'list');
    await waitForSettled(b, h.server, 'list');
    const expected = ['b while a is offline', 'shared 1 ✓', 'offline add'];
    await waitFor(() => shown.join() === expected.join(), `a's list to converge (shows ${JSON.stringify(shown)})`);
    expect(show(await b.query<Item>(LIST))).toEqual(expected);
  });

  test('where a page cannot be had offline, the edit fails visibly: local rejects, status says so, live queries report it instead of stale rows', async () => {
    const writer = h.client({ docId: 'big' });
    await writer.mutate.init().server;
    // Dozens of pages: a partial client that read one row holds a few of them.
    for (let i = 0; i < 300; i++) writer.mutate.addTodo({ id: `t${String(i).padStart(3, '0')}`, title: 'x'.repeat(200) });
    await writer.mutate.addTodo({ id: 'last', title: 'last' }).server;

    const reader = h.client({ docId: 'big', partial: true });
    await waitForSettled(reader, h.server, 'big');
    const one = 'SELECT title FROM todos WHERE id = ?';
    const updates: string[] = [];
    const errors: unknown[] = [];
    reader.subscribe<{ title: string }>(one, ['t010'], (rows) => updates.push(rows[0]?.title ?? '(none)'), (e) => errors.push(e));
    await waitFor(() => updates.length === 1, 'the live query to read its row');

    reader.disconnect();
    // t290's pages were never read here: the rename cannot apply offline, and the one after it waits in order.
    const far = reader.mutate.rename({ id: 't290', title: 'far' });
    const near = reader.mutate.rename({ id: 't010', title: 'near' });
    await expect(far.local).rejects.toMatchObject({ code: 'offline_missing_pages', message: expect.stringContaining('reconnects') });
    await expect(near.local).rejects.toMatchObject({ code: 'offline_missing_pages' });
    expect(reader.status()).toMatchObject({ pending: 2, lastError: { code: 'offline_missing_pages' } });
    // The live query says its rows lack the user's edits; it does not keep showing the old title.
    await waitFor(() => errors.length > 0, 'the live query to be told');
    expect(errors[0]).toMatchObject({ code: 'offline_missing_pages' });
    expect(updates).toEqual(['x'.repeat(200)]);
    await expect(reader.query(one, ['t010'])).rejects.toMatchObject({ code: 'offline_missing_pages' });

    reader.connect();
    await Promise.all([far.server, near.server]);
    await waitFor(() => updates.at(-1) === 'near', `the live query to show the edit (saw ${JSON.stringify(updates)})`);
    expect(reader.status().lastError).toBeUndefined();
    expect(await reader.query(one, ['t290'])).toEqual([{ title: 'far' }]);
  });
});
