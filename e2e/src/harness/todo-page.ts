import type { BrowserContext, Locator, Page } from 'playwright-core';
import { waitForValue, waitUntil } from './wait-until.js';

/** How long UI expectations poll before failing (sync over loopback takes milliseconds). */
export const UI_TIMEOUT_MS = 10_000;

/** The list a page shows: `?list=<id>`, else the last path segment. */
export function listIdOf(url: string): string {
  const u = new URL(url);
  const id = u.searchParams.get('list') ?? u.pathname.split('/').filter(Boolean).pop();
  if (!id) throw new Error(`no list id in ${url}`);
  return id;
}

/** `url`'s path, query and hash on another origin (the server's own, or a gate's). */
export function onOrigin(url: string, origin: string): string {
  const { pathname, search, hash } = new URL(url);
  return new URL(`${pathname}${search}${hash}`, origin).href;
}

/** The TodoMVC markup plus the demo's sync bar, as seen from a test. */
export class TodoPage {
  readonly newTodo: Locator;
  readonly items: Locator;
  readonly labels: Locator;
  readonly main: Locator;
  readonly footer: Locator;
  readonly toggleAll: Locator;
  readonly toggleAllLabel: Locator;
  readonly count: Locator;
  readonly clearCompleted: Locator;
  readonly filters: Locator;
  /** The connection indicator; `data-connection` is connecting, connected, offline, … */
  readonly syncStatus: Locator;
  /** "Go offline" / "Go online". */
  readonly syncToggle: Locator;

  constructor(readonly page: Page) {
    this.newTodo = page.locator('.new-todo');
    this.items = page.locator('.todo-list li');
    this.labels = page.locator('.todo-list li label');
    this.main = page.locator('.main');
    this.footer = page.locator('.footer');
    this.toggleAll = page.locator('.toggle-all');
    this.toggleAllLabel = page.locator('label[for="toggle-all"]');
    this.count = page.locator('.todo-count');
    this.clearCompleted = page.locator('.clear-completed');
    this.filters = page.locator('.filters a');
    this.syncStatus = page.getByTestId('sync-status');
    this.syncToggle = page.getByTestId('sync-toggle');
  }

  /** Opens `/` on `origin`, which creates a list and moves to its URL. */
  static async openNewList(context: BrowserContext, origin: string): Promise<TodoPage> {
    const page = await context.newPage();
    await page.goto(origin);
    await page.waitForURL((url) => url.search !== '' || url.pathname !== '/');
    const todo = new TodoPage(page);
    await todo.newTodo.waitFor();
    return todo;
  }

  /** Opens an existing list (a URL from {@link listUrl}) in a new page of `context`. */
  static async open(context: BrowserContext, url: string): Promise<TodoPage> {
    const page = await context.newPage();
    await page.goto(url);
    const todo = new TodoPage(page);
    await todo.newTodo.waitFor();
    return todo;
  }

  /** This list's URL without the filter hash. */
  listUrl(): string {
    const url = new URL(this.page.url());
    url.hash = '';
    return url.href;
  }

  listId(): string {
    return listIdOf(this.page.url());
  }

  async add(...titles: string[]): Promise<void> {
    for (const title of titles) {
      await this.newTodo.fill(title);
      await this.newTodo.press('Enter');
    }
  }

  /** The `li` whose label is exactly `title`. */
  item(title: string): Locator {
    return this.items.filter({ has: this.page.locator('label', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
  }

  async toggle(title: string): Promise<void> {
    await this.item(title).locator('.toggle').click();
  }

  async destroy(title: string): Promise<void> {
    const li = this.item(title);
    // TodoMVC shows the destroy button only while the item is hovered.
    await li.hover();
    await li.locator('.destroy').click();
  }

  async startEditing(title: string): Promise<Locator> {
    const li = this.item(title);
    await li.locator('label').dblclick();
    return li;
  }

  /** The visible titles in list order. */
  titles(): Promise<string[]> {
    return this.labels.allTextContents();
  }

  /** Titles of the items marked `.completed`. */
  completedTitles(): Promise<string[]> {
    return this.page.locator('.todo-list li.completed label').allTextContents();
  }

  async expectTitles(expected: string[], timeout = UI_TIMEOUT_MS): Promise<void> {
    await waitForValue(() => this.titles(), expected, `the titles in ${this.page.url()}`, timeout);
  }

  async expectCompleted(expected: string[], timeout = UI_TIMEOUT_MS): Promise<void> {
    await waitForValue(() => this.completedTitles(), expected, `the completed titles in ${this.page.url()}`, timeout);
  }

  /** What the sync bar tells the user: connected, connecting, reconnecting, offline-by-choice, … */
  syncState(): Promise<string | null> {
    return this.syncStatus.getAttribute('data-state');
  }

  async expectSyncState(state: string, timeout = UI_TIMEOUT_MS): Promise<void> {
    await waitForValue(() => this.syncState(), state, `the sync bar's state in ${this.page.url()}`, timeout);
  }

  connection(): Promise<string | null> {
    return this.syncStatus.getAttribute('data-connection');
  }

  async expectConnection(state: string, timeout = UI_TIMEOUT_MS): Promise<void> {
    await waitForValue(() => this.connection(), state, `the connection state in ${this.page.url()}`, timeout);
  }

  /** Waits until the sync connection is down (offline, or retrying). */
  async expectDisconnected(timeout = UI_TIMEOUT_MS): Promise<void> {
    await waitUntil(() => this.connection(), (state) => state !== 'connected', `${this.page.url()} to lose its sync connection`, timeout);
  }

  /**
   * Waits until the engine shows no pending mutation. Right after a mutation
   * the indicator may not have counted it yet; use {@link expectConfirmedAfter}
   * to wait for a new one.
   */
  async expectNothingPending(timeout = UI_TIMEOUT_MS): Promise<void> {
    const pending = () => this.page.getByTestId('sync-pending').getAttribute('data-pending');
    await waitForValue(pending, '0', `the pending mutations in ${this.page.url()}`, timeout);
  }

  /** The server version the local replica is at, from the sync bar. */
  async lsn(): Promise<number> {
    const value = await this.syncStatus.getAttribute('data-lsn');
    if (value === null || !/^\d+$/.test(value)) throw new Error(`no LSN in the sync bar's data-lsn ("${value}")`);
    return Number(value);
  }

  /** Waits until the replica moved past `lsn` (read before mutating) with nothing pending: the server has the mutations. */
  async expectConfirmedAfter(lsn: number, timeout = UI_TIMEOUT_MS): Promise<void> {
    const state = async () => ({ lsn: await this.lsn(), pending: await this.page.getByTestId('sync-pending').getAttribute('data-pending') });
    await waitUntil(state, (s) => s.lsn > lsn && s.pending === '0', `${this.page.url()} to confirm its mutations past LSN ${lsn}`, timeout);
  }

  async goOffline(): Promise<void> {
    await this.syncToggle.filter({ hasText: 'Go offline' }).click();
    await this.expectConnection('offline');
  }

  async goOnline(): Promise<void> {
    await this.syncToggle.filter({ hasText: 'Go online' }).click();
    await this.expectConnection('connected');
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
