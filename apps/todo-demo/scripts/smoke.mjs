// Drives the built demo in Debian's Chromium: two browsers on one list, live
// sync, the offline switch, the SQL panel and a reload. Run after `pnpm build`:
//   node scripts/smoke.mjs [--keep]   (exit code 0 = all checks passed)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = mkdtempSync(join(tmpdir(), 'todo-demo-smoke-'));
const server = spawn(process.execPath, [join(appDir, 'dist/server/main.js'), '--port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /^todo demo: (http:\/\/\S+)\n/m.exec(out);
    if (match) resolve(match[1]);
  });
  server.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const problems = [];
const open = async (name, url) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${name}: HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  await page.goto(url);
  return page;
};
const step = async (what, fn) => {
  process.stdout.write(`- ${what} … `);
  await fn();
  process.stdout.write('ok\n');
};
const expectText = async (locator, text) => {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
};
const titles = (page) => page.locator('.todo-list li label').allTextContents();
const waitTitles = (page, expected) =>
  page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll('.todo-list li label')].map((l) => l.textContent)) === want, JSON.stringify(expected), { timeout: 10_000 });

let exitCode = 0;
try {
  const alice = await open('alice', base);
  let listUrl;
  await step('opening / moves to a new list URL and focuses the input', async () => {
    await alice.waitForURL(/\?list=[A-Za-z0-9_-]{22}$/);
    listUrl = alice.url();
    await alice.waitForFunction(() => document.activeElement?.classList.contains('new-todo'));
    await expectText(alice.getByTestId('sync-connection'), 'Connected');
    if (await alice.locator('.main').count()) throw new Error('.main shown for an empty list');
    if (await alice.locator('.footer').count()) throw new Error('.footer shown for an empty list');
  });
  const bob = await open('bob', listUrl);
  await step('adds propagate live, in one order', async () => {
    await expectText(bob.getByTestId('sync-connection'), 'Connected');
    await alice.locator('.new-todo').fill('  buy milk  ');
    await alice.locator('.new-todo').press('Enter');
    await bob.locator('.new-todo').fill('walk dog');
    await bob.locator('.new-todo').press('Enter');
    await waitTitles(alice, ['buy milk', 'walk dog']).catch(() => waitTitles(alice, ['walk dog', 'buy milk']));
    const order = await titles(alice);
    await waitTitles(bob, order);
    await expectText(alice.locator('.todo-count'), '2 items left');
  });
  await step('a toggle propagates and the counter says "1 item left"', async () => {
    await bob.locator('.todo-list li', { hasText: 'walk dog' }).locator('.toggle').check();
    await alice.locator('.todo-list li.completed', { hasText: 'walk dog' }).waitFor();
    await expectText(alice.locator('.todo-count'), '1 item left');
    await alice.locator('.clear-completed').waitFor();
  });
  await step('filters route by hash', async () => {
    await alice.getByRole('link', { name: 'Active' }).click();
    await alice.waitForURL(/#\/active$/);
    await waitTitles(alice, ['buy milk']);
    await alice.locator('.filters a.selected', { hasText: 'Active' }).waitFor();
    await alice.getByRole('link', { name: 'Completed' }).click();
    await waitTitles(alice, ['walk dog']);
    await alice.getByRole('link', { name: 'All' }).click();
  });
  await step('editing: Escape cancels, Enter commits trimmed, empty deletes', async () => {
    const item = alice.locator('.todo-list li', { hasText: 'buy milk' });
    await item.locator('label').dblclick();
    await alice.locator('.todo-list li.editing .edit').fill('nope');
    await alice.locator('.todo-list li.editing .edit').press('Escape');
    await waitTitles(alice, await titles(bob));
    if ((await titles(alice)).includes('nope')) throw new Error('Escape committed the edit');
    await alice.locator('.todo-list li', { hasText: 'buy milk' }).locator('label').dblclick();
    await alice.locator('.todo-list li.editing .edit').fill('  buy oat milk ');
    await alice.locator('.todo-list li.editing .edit').press('Enter');
    await bob.locator('.todo-list li label', { hasText: /^buy oat milk$/ }).waitFor();
    await bob.locator('.new-todo').fill('short-lived');
    await bob.locator('.new-todo').press('Enter');
    await alice.locator('.todo-list li', { hasText: 'short-lived' }).locator('label').dblclick();
    await alice.locator('.todo-list li.editing .edit').fill('   ');
    await alice.locator('.todo-list li.editing .edit').blur();
    await bob.locator('.todo-list li', { hasText: 'short-lived' }).waitFor({ state: 'detached' });
  });
  await step('offline: changes queue, then sync on "Go online"', async () => {
    await alice.getByRole('button', { name: 'Go offline' }).click();
    await expectText(alice.getByTestId('sync-connection'), 'Offline by choice');
    await alice.locator('.new-todo').fill('written offline');
    await alice.locator('.new-todo').press('Enter');
    await expectText(alice.getByTestId('sync-pending'), '1 change not yet saved');
    await bob.waitForTimeout(300);
    if ((await titles(bob)).includes('written offline')) throw new Error('an offline change reached bob');
    await alice.getByRole('button', { name: 'Go online' }).click();
    await expectText(alice.getByTestId('sync-connection'), 'Connected');
    await bob.locator('.todo-list li label', { hasText: 'written offline' }).waitFor();
    await expectText(alice.getByTestId('sync-pending'), 'All changes saved');
  });
  await step('SQL panel: live rows, refusals and errors', async () => {
    const panel = bob.getByTestId('sql-panel');
    await expectText(panel.getByTestId('sql-row-count'), '3 rows');
    await alice.locator('.new-todo').fill('fourth');
    await alice.locator('.new-todo').press('Enter');
    await expectText(panel.getByTestId('sql-row-count'), '4 rows');
    await panel.locator('[data-testid="sql-results"] th', { hasText: 'title' }).waitFor();
    await panel.getByTestId('sql-input').fill('DELETE FROM todos');
    await panel.getByTestId('sql-run').click();
    await bob.locator('[data-testid="sql-error"][data-kind="refused"]').waitFor();
    await panel.getByTestId('sql-input').fill('SELECT nope FROM todos');
    await panel.getByTestId('sql-input').press('Control+Enter');
    await expectText(bob.locator('[data-testid="sql-error"][data-kind="error"]'), 'no such column');
    await panel.getByTestId('sql-example').filter({ hasText: 'Counts' }).click();
    await panel.locator('[data-testid="sql-results"] td', { hasText: /^4$/ }).first().waitFor();
    if ((await titles(bob)).length !== 4) throw new Error('the SQL panel changed the list');
  });
  await step('toggle-all and clear completed', async () => {
    await bob.locator('label[for="toggle-all"]').click();
    await expectText(alice.locator('.todo-count'), '0 items left');
    await alice.locator('.clear-completed').click();
    await waitTitles(bob, []);
    if (await bob.locator('.footer').count()) throw new Error('.footer shown for an empty list');
  });
  await step('the list survives a reload', async () => {
    await bob.locator('.new-todo').fill('still here');
    await bob.locator('.new-todo').press('Enter');
    await expectText(bob.getByTestId('sync-pending'), 'All changes saved');
    await alice.reload();
    await alice.locator('.todo-list li label', { hasText: 'still here' }).waitFor();
    if (alice.url() !== listUrl.split('#')[0] + '#/') throw new Error(`reload moved to ${alice.url()}`);
  });
  if (problems.length) throw new Error(`browser reported:\n${problems.join('\n')}`);
  console.log('smoke: all checks passed');
} catch (error) {
  exitCode = 1;
  console.error(`\nsmoke: FAILED: ${error instanceof Error ? error.stack : error}`);
  if (problems.length) console.error(problems.join('\n'));
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
