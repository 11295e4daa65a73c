import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './harness/chromium.js';
import { type DemoServer, startDemoServer } from './harness/demo-server.js';
import { type SyncGate, startSyncGate } from './harness/sync-gate.js';
import { TodoPage, UI_TIMEOUT_MS, onOrigin } from './harness/todo-page.js';

// A deploy of a new app version while a page is open: the demo server is
// stopped and the next version (next-version-demo.ts) starts on the same
// data and port. The open page runs the older code.
describe('a new app version is deployed', () => {
  let browser: Browser | undefined;
  let dataDir = '';
  const servers: DemoServer[] = [];
  const contexts: BrowserContext[] = [];
  const gates: SyncGate[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(gates.splice(0).map((g) => g.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const newContext = async () => {
    const context = await browser!.newContext();
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    return context;
  };

  it('the open page shows "A new version is available — reload", keeps syncing, and its button reloads', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-e2e-versions-'));
    const current = await startDemoServer({ dataDir });
    servers.push(current);
    const a = await TodoPage.openNewList(await newContext(), current.url);
    const banner = a.page.getByTestId('update-banner');
    await a.add('before the deploy');
    await a.expectConnection('connected');
    await a.expectNothingPending();
    expect(await banner.count()).toBe(0);

    await current.stop();
    await a.expectDisconnected();
    const next = await startDemoServer({ dataDir, port: current.port, nextVersion: true });
    servers.push(next);

    await a.expectConnection('update_required', 15_000);
    await banner.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await banner.textContent()).toBe('A new version is available — reload');
    expect(await a.page.getByTestId('update-waiting').count()).toBe(0);

    // Until the user reloads, edits still reach the server and others.
    await a.add('after the deploy');
    await a.expectNothingPending();
    const b = await TodoPage.open(await newContext(), a.listUrl());
    await b.expectTitles(['before the deploy', 'after the deploy']);

    // The button reloads the page. Here it loads the same build again, so the banner comes back.
    const navigated = a.page.waitForEvent('framenavigated');
    await a.page.getByTestId('update-reload').click();
    await navigated;
    await a.expectTitles(['before the deploy', 'after the deploy']);
    await a.expectConnection('update_required', 15_000);
    await banner.waitFor({ timeout: UI_TIMEOUT_MS });
  });

  it('a tab of the next build takes the list over from an open tab of the old one: one engine at a time, nothing lost', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-e2e-versions-'));
    const server = await startDemoServer({ dataDir });
    servers.push(server);
    // Both tabs on the gate's origin: one profile, one IndexedDB, and the test can cut their sync.
    const gate = await startSyncGate(server.port);
    gates.push(gate);
    const context = await newContext();
    const a = await TodoPage.openNewList(context, gate.origin);
    await a.add('a synced');
    await a.expectNothingPending();

    // A's edit waits on this device, stored.
    gate.block();
    await a.expectDisconnected();
    await a.add('a stored');
    await a.expectTitles(['a synced', 'a stored']);

    // The next build: the same app whose worker script has another URL, as a deploy gives it.
    const pageB = await context.newPage();
    await pageB.route(/\/assets\/index-[^/]*\.js$/, async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(/quire\.worker-([\w-]+)\.js/g, 'quire.worker-$1.js?build=next');
      await route.fulfill({ response, body });
    });
    await pageB.goto(a.listUrl());
    const b = new TodoPage(pageB);
    await b.newTodo.waitFor();
    // B's engine took the stored replica over, A's edit included.
    await b.expectTitles(['a synced', 'a stored']);

    // Both tabs edit. Two engines on one stored replica would give A's and B's
    // calls the same seqs, and the server would keep only one of each pair.
    await a.add('a late 1', 'a late 2');
    await b.add('b 1', 'b 2');

    gate.unblock();
    await b.expectConnection('connected', 15_000);
    await b.expectNothingPending();
    const fresh = await TodoPage.open(await newContext(), onOrigin(a.listUrl(), server.url));
    await fresh.expectTitles(['a synced', 'a stored', 'b 1', 'b 2']);
    await b.expectTitles(['a synced', 'a stored', 'b 1', 'b 2']);
    // A's late calls are not on the server: A must have been told it can no longer edit.
    const banner = a.page.getByTestId('update-banner');
    expect(await banner.count(), 'the old tab lost its edits without being told').toBe(1);
    expect(await banner.textContent()).toBe('A new version of the app is open in another tab — reload');
    expect(await a.titles()).not.toContain('a late 1');
  });
});
