import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './harness/chromium.js';
import { type DemoServer, startDemoServer } from './harness/demo-server.js';
import { TodoPage, UI_TIMEOUT_MS } from './harness/todo-page.js';

// A deploy of a new app version while a page is open: the demo server is
// stopped and the next version (next-version-demo.ts) starts on the same
// data and port. The open page runs the older code.
describe('a new app version is deployed', () => {
  let browser: Browser | undefined;
  let dataDir = '';
  const servers: DemoServer[] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
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
});
