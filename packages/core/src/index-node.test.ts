import { expect, test } from 'vitest';
import * as web from './index.js';
import * as node from './index.node.js';

test('the Node entry exports everything the default entry does', () => {
  expect(Object.keys(web).filter((name) => !(name in node))).toEqual([]);
});
