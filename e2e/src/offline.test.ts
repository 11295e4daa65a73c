import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import type { SyncGate } from './harness/sync-gate.js';
import { TodoPage, UI_TIMEOUT_MS, onOrigin } from './harness/todo-page.js';

// Context A browses through its own SyncGate, so the test can also keep A's
// sync socket from reaching the server across a reload (the app's "Go offline"
// lives in page memory and does not survive one).
const demo = useDemoSuite();

interface Pair {
  a: TodoPage;
  b: TodoPage;
  gate: SyncGate;
}

/**
 * A (through a gate) and B (direct) on one list holding "shared 1" and "shared 2".
 * With `holdPageAnswers`, A never gets an answer to a page request: A's
 * partial replica must hold what its own edits need without one (a page
 * still on its way when "Go offline" closed the socket once left offline
 * edits silently unapplied, about 1 run in 10).
 */
async function pairWithTwoItems(options: { holdPageAnswers?: boolean } = {}): Promise<Pair> {
  const gate = await demo.newGate();
  if (options.holdPageAnswers) gate.holdPageAnswers();
  const a = await TodoPage.openNewList(await demo.newContext(), gate.origin);
  const b = await TodoPage.open(await demo.newContext(), onOrigin(a.listUrl(), demo.url));
  await a.add('shared 1', 'shared 2');
  await b.expectTitles(['shared 1', 'shared 2']);
  await a.expectConnection('connected');
  return { a, b, gate };
}

/** A goes offline with the button and edits: an add, a toggle and a delete. B edits too. */
async function editWhileAOffline({ a, b, gate }: Pair): Promise<void> {
  await a.goOffline();
  // The button really drops the sync socket.
  await expect.poll(() => gate.syncOpen, { timeout: UI_TIMEOUT_MS }).toBe(0);
  await a.add('offline add');
  await a.toggle('shared 1');
  await a.destroy('shared 2');
  await a.expectTitles(['shared 1', 'offline add']);
  await a.expectCompleted(['shared 1']);

  const lsn = await b.lsn();
  await b.add('b while a is offline');
  await b.expectTitles(['shared 1', 'shared 2', 'b while a is offline']);
  await b.expectConfirmedAfter(lsn);
  // B's add reached the server, A's edits did not, and A does not see B's add.
  expect(await b.titles()).toEqual(['shared 1', 'shared 2', 'b while a is offline']);
  expect(await b.completedTitles()).toEqual([]);
  expect(await a.titles()).toEqual(['shared 1', 'offline add']);
  expect(await a.connection()).toBe('offline');
}

/** After A is back, both show A's offline edits on top of B's add, in the server's order. */
async function expectConverged({ a, b }: Pair): Promise<void> {
  const final = ['shared 1', 'b while a is offline', 'offline add'];
  await b.expectTitles(final);
  await b.expectCompleted(['shared 1']);
  await a.expectTitles(final);
  await a.expectCompleted(['shared 1']);
  await a.expectNothingPending();
}

describe('offline', () => {
  it('queues edits made after "Go offline" and sends them after "Go online"', async () => {
    const pair = await pairWithTwoItems({ holdPageAnswers: true });
    await editWhileAOffline(pair);
    await pair.a.goOnline();
    await expectConverged(pair);
  });

  it('keeps offline edits across a reload while still offline, then sends them', async () => {
    const pair = await pairWithTwoItems();
    const { a, gate } = pair;
    await editWhileAOffline(pair);

    const openedBeforeReload = gate.syncOpened;
    await a.page.reload();
    await a.newTodo.waitFor();
    // Only local storage can supply these: the server has none of A's edits and A cannot reach it.
    await a.expectTitles(['shared 1', 'offline add']);
    await a.expectCompleted(['shared 1']);
    await a.expectDisconnected();

    // "Go offline" is remembered across the reload: the page does not even try
    // the server, though the gate would let it through.
    await expect.poll(() => a.syncToggle.textContent(), { timeout: UI_TIMEOUT_MS }).toBe('Go online');
    await a.page.waitForTimeout(500);
    expect(gate.syncOpened).toBe(openedBeforeReload);
    await a.goOnline();
    await expectConverged(pair);
  });

  it('shows edits made while the server is unreachable after a reload, and sends them once it is back', async () => {
    const { a, b, gate } = await pairWithTwoItems();
    gate.block();
    await a.expectDisconnected();
    await a.add('made while unreachable');
    await a.toggle('shared 2');
    await a.page.reload();
    await a.newTodo.waitFor();
    // The server is out of reach: only local storage can supply these.
    await a.expectTitles(['shared 1', 'shared 2', 'made while unreachable']);
    await a.expectCompleted(['shared 2']);
    // Not offline by choice: the button still offers "Go offline", and the client reconnects by itself.
    expect(await a.syncToggle.textContent()).toBe('Go offline');
    gate.unblock();
    await a.expectConnection('connected', 15_000);
    await a.expectNothingPending();
    await b.expectTitles(['shared 1', 'shared 2', 'made while unreachable']);
    await b.expectCompleted(['shared 2']);
  });
});
