import { expect, test } from 'vitest';
import type { Row } from '../reducers/tx.js';
import { Subscriptions } from './subscriptions.js';

test('a query that fails and then recovers to the rows it had before is reported again', () => {
  const subs = new Subscriptions();
  const events: string[] = [];
  subs.add('q', undefined, (rows) => events.push(`rows ${rows.length}`), (error) => events.push(`error ${(error as Error).message}`));
  const results: Array<Row[] | Error> = [[{ n: 1 }], new Error('no such table'), [{ n: 1 }], [{ n: 1 }]];
  for (const result of results) {
    subs.refresh(
      () => {
        if (result instanceof Error) throw result;
        return { result, reads: { pages: new Map(), pageCount: 1, allocation: true } };
      },
      () => false,
    );
  }
  expect(events).toEqual(['rows 1', 'error no such table', 'rows 1']);
});
