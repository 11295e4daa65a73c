import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ClientOwners } from './client-owners.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a client id belongs to the first user that claims it, also after the record is reopened', () => {
  dir = mkdtempSync(join(tmpdir(), 'quire-owners-'));
  const owners = ClientOwners.open(join(dir, 'doc'));
  expect(owners.claim('c1', 'alice')).toBe('alice');
  expect(owners.claim('c1', 'mallory')).toBe('alice');
  expect(owners.claim('c2', 'mallory')).toBe('mallory');
  owners.close();

  const reopened = ClientOwners.open(join(dir, 'doc'));
  expect(reopened.claim('c1', 'mallory')).toBe('alice');
  expect(reopened.claim('c2', 'alice')).toBe('mallory');
  expect(reopened.claim('c1', 'alice')).toBe('alice');
  reopened.close();
});
