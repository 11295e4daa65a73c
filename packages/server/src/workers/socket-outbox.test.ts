import { expect, test } from 'vitest';
import { SocketOutbox } from './socket-outbox.js';
import type { SocketCommand } from './worker-messages.js';

function outbox() {
  const posts: Array<{ commands: SocketCommand[]; transfer: ArrayBuffer[] }> = [];
  return { box: new SocketOutbox((commands, transfer) => posts.push({ commands, transfer })), posts };
}

const text = (frame: ArrayBuffer) => new TextDecoder().decode(frame);

test('a broadcast becomes one frame with its connections, posted once at the end of the task', async () => {
  const { box, posts } = outbox();
  const commit = new TextEncoder().encode('commit');
  for (const conn of [1, 2, 3]) box.send(conn, commit);
  expect(posts).toEqual([]);
  await Promise.resolve();
  expect(posts).toHaveLength(1);
  const [send] = posts[0]!.commands as Array<Extract<SocketCommand, { kind: 'send' }>>;
  expect(send!.to).toEqual([1, 2, 3]);
  expect(text(send!.frame)).toBe('commit');
  expect(posts[0]!.transfer).toEqual([send!.frame]);
});

test("each connection's order holds: only consecutive sends of one frame merge", async () => {
  const { box, posts } = outbox();
  const a = new TextEncoder().encode('a');
  const b = new TextEncoder().encode('b');
  box.send(2, b);
  box.send(1, a);
  box.send(1, b);
  box.command({ kind: 'close', conn: 1, code: 4400, reason: 'bye' });
  box.send(3, b);
  await Promise.resolve();
  const seen = posts[0]!.commands.map((c) => (c.kind === 'send' ? `${text(c.frame)}→${c.to.join(',')}` : `${c.kind} ${c.conn}`));
  expect(seen).toEqual(['b→2', 'a→1', 'b→1', 'close 1', 'b→3']);
});

test('the frame sent is a copy: the coordinator keeps its bytes, and a view into a larger buffer sends only the view', async () => {
  const { box, posts } = outbox();
  const backing = new TextEncoder().encode('xxframexx');
  const view = backing.subarray(2, 7);
  box.send(1, view);
  await Promise.resolve();
  const frame = (posts[0]!.commands[0] as Extract<SocketCommand, { kind: 'send' }>).frame;
  expect(text(frame)).toBe('frame');
  expect(frame).not.toBe(backing.buffer);
});
