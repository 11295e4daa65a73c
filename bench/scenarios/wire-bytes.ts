import { ByteCountingProxy } from '../lib/byte-counting-proxy.js';
import { type BenchResult, result } from '../lib/result.js';
import { settled, startServer } from '../lib/setup.js';

/** All bytes on all sockets per edit, steady state, two clients connected through a counting proxy. */
export async function wireBytes(edits: number): Promise<BenchResult[]> {
  const server = await startServer();
  const proxy = await ByteCountingProxy.start(server.port);
  const via = `ws://127.0.0.1:${proxy.port}`;
  const a = server.client('wire', via);
  const b = server.client('wire', via);
  await a.mutate.init().server;
  // Warm up: a few hundred rows, so edits touch a realistic b-tree.
  for (let i = 0; i < 300; i++) a.mutate.addTodo({ id: `w${i}`, title: `warm-up todo ${i}` });
  await settled(a);
  await until(b, a.status().lsn);

  const measure = async (edit: (i: number) => Promise<unknown>) => {
    const before = proxy.bytes;
    for (let i = 0; i < edits; i++) await edit(i);
    await until(b, a.status().lsn);
    return (proxy.bytes - before) / edits;
  };
  const perAdd = await measure((i) => a.mutate.addTodo({ id: `n${i}`, title: `a new todo number ${i}` }).server);
  const perToggle = await measure((i) => a.mutate.toggle({ id: `w${i % 300}` }).server);
  await Promise.all([a.close(), b.close()]);
  await proxy.close();
  await server.close();
  return [result('wire_bytes_per_add', perAdd, 'bytes'), result('wire_bytes_per_toggle', perToggle, 'bytes')];
}

async function until(client: { status(): { lsn: number } }, lsn: number): Promise<void> {
  while (client.status().lsn < lsn) await new Promise((r) => setTimeout(r, 2));
}
