import { expect, test } from 'vitest';
import { didYouMean } from './did-you-mean.js';

const OPTIONS = ['reducers', 'data', 'port', 'host', 'log-level', 'help', 'version'];

test.each([
  ['--prot', '--port'],
  ['--reducer', '--reducers'],
  ['--redcuers', '--reducers'],
  ['--data-dir', '--data'],
  ['--hots', '--host'],
  ['--loglevel', '--log-level'],
  ['--verison', '--version'],
  ['--prt=9000', '--port'],
  ['--bogus', undefined],
  ['-x', undefined],
])('%s → %s', (unknown, suggestion) => {
  expect(didYouMean(unknown, OPTIONS)).toBe(suggestion);
});
