/**
 * A client process of the crash loop: runs real `createClient` clients under
 * steady load and reports every mutation and its outcome to the parent over
 * IPC. Launch with
 * `node --conditions=quire-source --import tsx helpers/chaos-client-process.ts '<ClientProcessConfig JSON>'`
 * and an IPC channel (see ./chaos-client-handle.ts).
 */
import { openSync, writeSync } from 'node:fs';
import { FileStore, createClient, type QuireClient } from '@quire/core';
import { chaosReducers, type ChaosReducers } from './chaos-reducers.js';
import type { AppendArgs, ChildEvent, ClientDigest, ClientProcessConfig, ClientSpec, ClientStatus, IssuedEvent, Request, TransferArgs } from './chaos-wire.js';
import { digestPages } from './page-digest.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';

// Enough in flight that kills land on pipelined pushes and group commits, few
// enough that a rebase (which replays every pending mutation) stays cheap.
const MAX_PENDING = 12;

const config = JSON.parse(process.argv[2] ?? '') as ClientProcessConfig;
const send = (event: ChildEvent) => process.send!(event);
// An IPC message can still sit in this process's queue when a SIGKILL comes,
// after the mutation it announces was stored and sent; a write(2) to the
// journal is in the kernel (and survives the process) before it returns.
const journal = openSync(config.journalPath, 'a');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Driven {
  client: QuireClient<ChaosReducers>;
  rand: SeededRandom;
  issued: number;
  unsettled: number;
  maxLsn: number;
  backwards: string[];
}

let paused = config.paused;
let closing = false;
const wakers = new Set<() => void>();
const wakeAll = () => {
  for (const wake of [...wakers]) wake();
};

async function open(spec: ClientSpec, index: number): Promise<Driven> {
  const client = createClient({
    url: config.url,
    docId: config.docId,
    reducers: chaosReducers,
    clientId: spec.clientId,
    reconnect: { minDelayMs: 20, maxDelayMs: 250 },
    ...(spec.storePath ? { store: await FileStore.open(spec.storePath) } : {}),
  });
  // With a store, seqs are known only once the stored pending mutations are back.
  await client.ready();
  const driven: Driven = {
    client,
    // One stream per client and incarnation, so a client's choices do not depend on how the others interleave.
    rand: seededRandom((config.seed + 7919 * (index + 1) + 104_729 * config.incarnation) >>> 0),
    issued: 0,
    unsettled: 0,
    maxLsn: client.status().durableLsn,
    backwards: [],
  };
  // A client shows commits before they are durable and drops them if the
  // server loses them; its durable LSN never goes back.
  let last = client.status().durableLsn;
  client.subscribeStatus(({ durableLsn }) => {
    if (durableLsn < last) driven.backwards.push(`${last}->${durableLsn}`);
    last = durableLsn;
    driven.maxLsn = Math.max(driven.maxLsn, durableLsn);
  });
  return driven;
}

function issue(d: Driven): void {
  const { client, rand } = d;
  const n = ++d.issued;
  const id = `${client.clientId}.${config.incarnation}.${n}`;
  const common = { type: 'issued', proc: config.name, incarnation: config.incarnation, clientId: client.clientId, n, seq: 0 } as const;
  let event: IssuedEvent;
  if (rand.chance(0.5)) {
    const payer = rand.pick(config.accounts);
    const payee = rand.pick(config.accounts.filter((a) => a !== payer));
    event = { ...common, op: 'transfer', args: { id, payer, payee, amount: 1 + rand.int(300) } };
  } else {
    event = { ...common, op: 'append', args: { id, padBytes: rand.chance(0.1) ? 3000 + rand.int(3000) : rand.int(200) } };
  }
  // Journaled before `mutate`, which stores the mutation (a FileStore write
  // and fsync) before it returns: a SIGKILL in between must not leave a
  // stored mutation that the loop never heard of. Its seq is not known yet.
  writeSync(journal, `${JSON.stringify(event)}\n`);
  const handle = event.op === 'transfer' ? client.mutate.transfer(event.args as TransferArgs) : client.mutate.append(event.args as AppendArgs);
  send({ ...event, seq: handle.seq });
  d.unsettled++;
  handle.server.then(
    ({ lsn }) => {
      d.unsettled--;
      send({ type: 'settled', id, lsn });
    },
    (error: { code?: string; message?: string }) => {
      d.unsettled--;
      // Closing fails what is still pending; that says nothing about the server.
      if (closing && error?.code === 'client_closed') return;
      send({ type: 'settled', id, code: error?.code ?? 'no_code', message: error?.message ?? String(error) });
    },
  );
}

async function drive(d: Driven): Promise<void> {
  while (!closing) {
    if (paused) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          wakers.delete(wake);
          resolve();
        };
        wakers.add(wake);
      });
      continue;
    }
    if (d.client.status().pending >= MAX_PENDING) {
      await sleep(3);
      continue;
    }
    issue(d);
    await sleep(d.rand.int(8));
  }
}

function status(d: Driven): ClientStatus {
  const s = d.client.status();
  return {
    clientId: d.client.clientId,
    connection: s.connection,
    pending: s.pending,
    lsn: s.lsn,
    durableLsn: s.durableLsn,
    maxLsn: d.maxLsn,
    backwards: d.backwards,
    unsettled: d.unsettled,
    issued: d.issued,
    lastError: s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : undefined,
  };
}

async function digest(d: Driven): Promise<ClientDigest> {
  const value = await d.client.inspect((replica) => {
    const base = replica.pages.baseImage();
    const pages = [...base.pages].map(([pgno, data]) => ({ pgno, data }));
    return digestPages(base.lsn, base.pageCount, pages, replica.pages.overlayPages().length);
  });
  return { clientId: d.client.clientId, digest: value };
}

async function main(): Promise<void> {
  const driven = await Promise.all(config.clients.map(open));
  const loops = driven.map(drive);
  process.on('message', (request: Request) => {
    void (async (): Promise<unknown> => {
      switch (request.type) {
        case 'pause':
          paused = true;
          return driven.map(status);
        case 'resume':
          paused = false;
          wakeAll();
          return null;
        case 'status':
          return driven.map(status);
        case 'digest':
          return Promise.all(driven.map(digest));
        case 'close':
          closing = true;
          wakeAll();
          await Promise.all(loops);
          await Promise.all(driven.map((d) => d.client.close()));
          return null;
      }
    })().then(
      (value) => {
        send({ type: 'reply', requestId: request.requestId, ok: true, value: value ?? null });
        if (request.type === 'close') process.disconnect();
      },
      (error: unknown) => send({ type: 'reply', requestId: request.requestId, ok: false, error: String((error as Error)?.stack ?? error) }),
    );
  });
  // The parent going away (a crashed test runner) must not leave load running.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos client ${config.name}: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
