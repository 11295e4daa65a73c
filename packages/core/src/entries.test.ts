import { expect, test } from 'vitest';
import * as main from './index.js';
import * as node from './index.node.js';

test('the Node entry exports every value the main entry does', () => {
  // index.node.ts lists its re-exports by name: a new export must be added there too.
  const missing = Object.keys(main).filter((name) => !(name in node));
  expect(missing).toEqual([]);
});
