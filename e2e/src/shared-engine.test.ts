import { describe, expect, it } from 'vitest';
import { useDemoSuite } from './harness/demo-suite.js';
import type { SyncGate } from './harness/sync-gate.js';
import { TodoPage, UI_TIMEOUT_MS, onOrigin } from './harness/todo-page.js';

// Tabs of one profile must share one engine (a SharedWorker, or a leader tab
// where SharedWorker is missing). The proof that does not depend on which:
// the server sees one sync WebSocket for the profile, however many tabs it has.
// The SyncGate counts handshakes at the TCP level, so a socket opened by a
// page, a worker or a shared worker is counted alike.
const demo = useDemoSuite();

interface TwoTabs {
  gate: SyncGate;
  tab1: TodoPage;
  tab2: TodoPage;
}

/** One profile behind a gate, with the same list open in two tabs, both connected. */
async function twoTabs(withoutSharedWorker: boolean): Promise<TwoTabs> {
  const gate = await demo.newGate();
  const context = await demo.newContext();
  // As in browsers that lack SharedWorker: the tabs must elect a leader.
  if (withoutSharedWorker) await context.addInitScript(() => void delete (globalThis as { SharedWorker?: unknown }).SharedWorker);
  const tab1 = await TodoPage.openNewList(context, gate.origin);
  await tab1.expectConnection('connected');
  const tab2 = await TodoPage.open(context, tab1.listUrl());
  await tab2.expectConnection('connected');
  expect(await tab2.page.evaluate(() => typeof SharedWorker)).toBe(withoutSharedWorker ? 'undefined' : 'function');
  return { gate, tab1, tab2 };
}

/** Opens `tab`'s list in a new profile, straight on the server. */
async function otherProfile(tab: TodoPage): Promise<TodoPage> {
  return TodoPage.open(await demo.newContext(), onOrigin(tab.listUrl(), demo.url));
}

describe.each([
  ['through a SharedWorker', false],
  ['through a leader tab, where SharedWorker is missing', true],
])('two tabs of one browser profile, %s', (_how, withoutSharedWorker) => {
  it('share one engine: changes show in both tabs over a single sync connection', async () => {
    const { gate, tab1, tab2 } = await twoTabs(withoutSharedWorker);
    await tab1.add('from tab 1');
    await tab2.expectTitles(['from tab 1']);
    await tab2.add('from tab 2');
    await tab1.expectTitles(['from tab 1', 'from tab 2']);
    await tab2.toggle('from tab 1');
    await tab1.expectCompleted(['from tab 1']);

    expect({ opened: gate.syncOpened, open: gate.syncOpen }).toEqual({ opened: 1, open: 1 });
  });

  it('share local state while the server is unreachable, and reconnect with one socket', async () => {
    const { gate, tab1, tab2 } = await twoTabs(withoutSharedWorker);
    await tab1.add('before');
    await tab2.expectTitles(['before']);

    gate.block();
    await tab1.expectDisconnected();
    await tab1.add('while unreachable');
    // Nothing can come through the server: the tabs share the change locally.
    await tab2.expectTitles(['before', 'while unreachable']);

    gate.unblock();
    await tab1.expectConnection('connected', 15_000);
    await tab2.expectNothingPending();
    await expect.poll(() => gate.syncOpen, { timeout: UI_TIMEOUT_MS }).toBe(1);
    // The change reached the server: another profile sees it.
    await (await otherProfile(tab1)).expectTitles(['before', 'while unreachable']);
  });

  it('keep working in the remaining tab after the first tab closes', async () => {
    const { gate, tab1, tab2 } = await twoTabs(withoutSharedWorker);
    await tab1.add('from tab 1');
    await tab2.expectTitles(['from tab 1']);

    await tab1.page.close();
    const lsn = await tab2.lsn();
    await tab2.add('after tab 1 closed');
    await tab2.expectTitles(['from tab 1', 'after tab 1 closed']);
    await tab2.expectConfirmedAfter(lsn);
    await (await otherProfile(tab2)).expectTitles(['from tab 1', 'after tab 1 closed']);
    // A leader tab's successor may open a new socket, but never a second one at a time.
    expect(gate.syncOpen).toBe(1);
  });
});

describe('tabs of one profile, where SharedWorker is missing', () => {
  it('send a change made while no tab leads to the next leader, instead of losing it', async () => {
    const gate = await demo.newGate();
    const context = await demo.newContext();
    await context.addInitScript(() => void delete (globalThis as { SharedWorker?: unknown }).SharedWorker);
    const tab1 = await TodoPage.openNewList(context, gate.origin);
    await tab1.expectConnection('connected');
    await tab1.add('from tab 1');
    // A page of the origin that is not the app queues for the leader lock
    // before tab 2 does: once tab 1 closes it holds the lock, and no tab
    // leads until it lets go (as between one leader's end and the next one's start).
    const holder = await context.newPage();
    await holder.goto(new URL('/holder.txt', gate.origin).toString());
    const lockName = `quire:leader:${tab1.listId()}`;
    await holder.evaluate((name) => {
      void navigator.locks.request(name, () => new Promise<void>((release) => ((globalThis as { release?: () => void }).release = release)));
    }, lockName);
    const tab2 = await TodoPage.open(context, tab1.listUrl());
    await tab2.expectTitles(['from tab 1']);

    await tab1.page.close();
    await expect.poll(() => holder.evaluate(() => typeof (globalThis as { release?: unknown }).release), { timeout: UI_TIMEOUT_MS }).toBe('function');
    const lsn = await tab2.lsn();
    await tab2.add('while no tab leads');
    await holder.evaluate(() => (globalThis as { release?: () => void }).release?.());
    await tab2.expectTitles(['from tab 1', 'while no tab leads']);
    await tab2.expectConfirmedAfter(lsn);
    await (await otherProfile(tab2)).expectTitles(['from tab 1', 'while no tab leads']);
  });
});
