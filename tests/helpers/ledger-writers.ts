import type { QuireClient } from '@quire/core';
import type { LedgerReducers } from './ledger-reducers.js';

/** Clients appending to the ledger until stopped, and what their `server` promises said. */
export interface LedgerWriters {
  /** Entry id → the LSN its call was confirmed at. */
  readonly confirmed: Map<string, number>;
  /** Calls whose `server` promise rejected. */
  readonly failures: unknown[];
  /** Every entry id issued, in the order issued. */
  readonly issued: string[];
  /** Stops issuing calls and waits for the loops to end (calls in flight still settle). */
  stop(): Promise<void>;
}

/**
 * Each client appends `<clientId>-<n>` every 15 ms, with at most about 20
 * calls pending, so a document that moves or stops does not build an
 * unbounded queue.
 */
export function startLedgerWriters(clients: ReadonlyArray<QuireClient<LedgerReducers>>): LedgerWriters {
  const confirmed = new Map<string, number>();
  const failures: unknown[] = [];
  const issued: string[] = [];
  let writing = true;
  const loops = clients.map(async (c) => {
    for (let n = 1; writing; n++) {
      const id = `${c.clientId}-${n}`;
      issued.push(id);
      c.mutate.append({ id, client: c.clientId, n, padBytes: 0 }).server.then(
        ({ lsn }) => confirmed.set(id, lsn),
        (error: unknown) => failures.push(error),
      );
      while (writing && c.status().pending > 20) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 15));
    }
  });
  return {
    confirmed,
    failures,
    issued,
    async stop() {
      writing = false;
      await Promise.all(loops);
    },
  };
}
