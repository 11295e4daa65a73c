// What an open document costs the server, without clients or sockets: one
// process opens small documents (the bench's five todos) through
// server.mutate, and reads its own memory (after full GCs) once 100 are
// open and once N more are: the cost per document is the slope between the
// two, so one-time growth before the first reading does not count.
//   node --expose-gc --max-semi-space-size=1 --import tsx probes/open-document-memory.ts [N=300] [waitMs=2000]
// (--max-semi-space-size=1: otherwise V8's young generation grows between the
// readings, and its empty pages count as the documents' cost.)
// waitMs: how long the documents sit without a batch before each reading.
// Rss and Anonymous come from /proc/self/smaps_rollup (Linux), the heap from V8.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createSyncServer } from '@quire/server';
import { todoRange, todoReducers } from '../lib/setup.js';
import { measuredMemory } from '../lib/serve.js';

const n = Number(process.argv[2] ?? 300);
const waitMs = Number(process.argv[3] ?? 2000);
const dataDir = mkdtempSync(join(tmpdir(), 'quire-doc-memory-'));
const server = createSyncServer({ reducers: todoReducers, dataDir, logger: createLogger({ level: 'silent' }), idleCloseMs: 3_600_000 });

async function open(docId: string): Promise<void> {
  await server.mutate(docId, 'init', undefined);
  await server.mutate(docId, 'addTodos', { todos: todoRange(0, 5) });
}

async function reading() {
  await new Promise((r) => setTimeout(r, waitMs));
  const memory = await measuredMemory();
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rss: kb('Rss'), anonymous: kb('Anonymous'), heapUsed: memory.heapUsed / 1024, external: memory.external / 1024 };
}

try {
  // Warm: code loaded and the first document's one-time costs paid before the baseline.
  for (let i = 0; i < 100; i++) await open(`warm-${i}`);
  const before = await reading();
  for (let i = 0; i < n; i++) await open(`doc-${i}`);
  const after = await reading();
  const per = (key: keyof typeof before) => ((after[key] - before[key]) / n).toFixed(1);
  console.log(`${n} more open documents, ${waitMs} ms after their last batch, KB each: rss ${per('rss')}, anonymous ${per('anonymous')}, V8 heap used ${per('heapUsed')}, external ${per('external')}`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
