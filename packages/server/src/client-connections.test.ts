import { expect, test } from 'vitest';
import { ClientConnections } from './client-connections.js';

test('over the limit, the oldest connections of that client id are returned for closing', () => {
  const connections = new ClientConnections<string>(2);
  expect(connections.add('doc', 'a', 'a1')).toEqual([]);
  expect(connections.add('doc', 'a', 'a2')).toEqual([]);
  expect(connections.add('doc', 'b', 'b1')).toEqual([]);
  expect(connections.add('other', 'a', 'x1')).toEqual([]);
  expect(connections.add('doc', 'a', 'a3')).toEqual(['a1']);
  expect(connections.count('doc', 'a')).toBe(2);
  connections.remove('doc', 'a', 'a2');
  connections.remove('doc', 'a', 'a1'); // already gone: nothing happens
  expect(connections.count('doc', 'a')).toBe(1);
  expect(connections.add('doc', 'a', 'a4')).toEqual([]);
});
