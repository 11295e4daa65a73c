import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium } from './chromium.js';
import { type DemoServer, startDemoServer } from './demo-server.js';
import { type SyncGate, startSyncGate } from './sync-gate.js';

/** What a test file gets from {@link useDemoSuite}: one demo server and one Chromium for the file. */
export interface DemoSuite {
  /** The server's own origin, `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly browser: Browser;
  readonly server: DemoServer;
  /** A fresh browser profile (its own storage), closed after the test; `options` set e.g. its viewport. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** A {@link SyncGate} in front of the server, closed after the test. */
  newGate(): Promise<SyncGate>;
}

/** Playwright's per-action wait; tests poll with their own, shorter deadlines. */
const ACTION_TIMEOUT_MS = 15_000;

/**
 * Starts the demo server (fresh data folder) and Chromium before the file's
 * tests and stops both after; contexts and gates are per test.
 */
export function useDemoSuite(): DemoSuite {
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const gates: SyncGate[] = [];

  beforeAll(async () => {
    // Chromium first: a missing browser fails fast, with no server to clean up.
    browser = await launchChromium();
    server = await startDemoServer();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(gates.splice(0).map((g) => g.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not running (beforeAll failed?)`);
    return value;
  };
  return {
    get url() {
      return need(server, 'the demo server').url;
    },
    get server() {
      return need(server, 'the demo server');
    },
    get browser() {
      return need(browser, 'Chromium');
    },
    async newContext(options?: BrowserContextOptions) {
      const context = await need(browser, 'Chromium').newContext(options);
      context.setDefaultTimeout(ACTION_TIMEOUT_MS);
      context.on('page', (page) => {
        // Surface app crashes in the test output; they explain most failures.
        page.on('pageerror', (error) => console.warn(`[page error] ${page.url()}: ${error.message}`));
        page.on('console', (msg) => {
          if (msg.type() !== 'error') return;
          const source = msg.location().url;
          // Noise: the favicon the demo does not have, and a blocked SyncGate's refusals.
          if (source.endsWith('/favicon.ico') || msg.text().includes('Unexpected response code: 503')) return;
          console.warn(`[console.error] ${page.url()}: ${msg.text()}${source ? ` (${source})` : ''}`);
        });
      });
      contexts.push(context);
      return context;
    },
    async newGate() {
      const gate = await startSyncGate(need(server, 'the demo server').port);
      gates.push(gate);
      return gate;
    },
  };
}
