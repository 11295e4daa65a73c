import { ByteCountingProxy } from '../lib/byte-counting-proxy.js';
import { type Classify, FrameTally, classifyQuire, classifyYjs } from '../lib/frame-tally.js';
import { type BenchResult, result } from '../lib/result.js';
import { type ServerChild, startQuireServer, startYjsServer, withServer } from '../lib/servers.js';
import { quireClient, ready, todoId, todoRange, todoTitle } from '../lib/setup.js';
import { addTodo, toggle, yjsClient } from '../lib/yjs.js';

/** Todos already in the document, so edits touch a realistic b-tree (and a realistic Yjs map). */
const EXISTING = 300;
const WARM_UP = 20;

interface Editor {
  add(i: number): Promise<void>;
  toggle(i: number): Promise<void>;
}

/**
 * All bytes on all sockets per edit, in steady state, two clients connected
 * through a counting proxy; edits are sequential (each one reaches the other
 * client before the next), so neither system can merge them.
 */
export async function wireBytes(edits: number): Promise<BenchResult[]> {
  const quire = await withServer(startQuireServer, (server) =>
    measure(server, edits, classifyQuire, async (url) => {
      const a = quireClient(url, 'wire');
      const b = quireClient(url, 'wire');
      await Promise.all([ready(a), ready(b)]);
      const seen = async (lsn: number) => {
        await ready(b, lsn);
      };
      const editor: Editor = {
        add: async (i) => seen((await a.mutate.addTodo({ id: todoId(i, 'n'), title: todoTitle(i) }).server).lsn),
        toggle: async (i) => seen((await a.mutate.toggle({ id: todoId(i % EXISTING) }).server).lsn),
      };
      return { editor, close: () => Promise.all([a.close(), b.close()]).then(() => undefined) };
    }),
  );
  const yjs = await withServer(startYjsServer, (server) =>
    measure(server, edits, classifyYjs, async (url) => {
      const a = yjsClient(url, 'wire');
      const b = yjsClient(url, 'wire');
      await Promise.all([a.synced, b.synced]);
      let wake: (() => void) | undefined;
      b.doc.on('update', () => wake?.());
      const until = async (done: () => boolean) => {
        while (!done()) await new Promise<void>((r) => (wake = r));
      };
      const editor: Editor = {
        add: (i) => {
          const id = todoId(i, 'n');
          addTodo(a.doc, id, todoTitle(i));
          return until(() => b.todos.has(id));
        },
        toggle: (i) => {
          const id = todoId(i % EXISTING);
          toggle(a.doc, id);
          const want = a.todos.get(id)!.get('completed');
          return until(() => b.todos.get(id)!.get('completed') === want);
        },
      };
      return { editor, close: async () => void (a.close(), b.close()) };
    }),
  );
  return [result('wire_bytes_per_add', quire.add, 'bytes', yjs.add), result('wire_bytes_per_toggle', quire.toggle, 'bytes', yjs.toggle)];
}

async function measure(
  server: ServerChild,
  edits: number,
  classify: Classify,
  connect: (url: string) => Promise<{ editor: Editor; close(): Promise<void> }>,
): Promise<{ add: number; toggle: number }> {
  await server.seed('wire', todoRange(0, EXISTING));
  // BENCH_WIRE_FRAMES=1 prints bytes per edit by direction and message type.
  const tally = process.env.BENCH_WIRE_FRAMES ? new FrameTally(classify) : undefined;
  const proxy = await ByteCountingProxy.start(server.port, tally);
  const { editor, close } = await connect(`ws://127.0.0.1:${proxy.port}`);
  try {
    if (proxy.connections !== 2) throw new Error(`expected 2 connections through the proxy, saw ${proxy.connections}`);
    for (let i = 0; i < WARM_UP; i++) await editor.add(100_000 + i);
    for (let i = 0; i < WARM_UP; i++) await editor.toggle(EXISTING - 1 - i);
    const perEdit = async (edit: (i: number) => Promise<void>) => {
      await proxy.quiet();
      const before = proxy.bytes;
      tally?.reset();
      for (let i = 0; i < edits; i++) await edit(i);
      await proxy.quiet();
      if (tally) console.table(tally.table(edits));
      return (proxy.bytes - before) / edits;
    };
    const add = await perEdit(editor.add);
    const toggle = await perEdit(editor.toggle);
    return { add, toggle };
  } finally {
    await close();
    await proxy.close();
  }
}
