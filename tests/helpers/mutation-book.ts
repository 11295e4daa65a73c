import type { ChildEvent, IssuedEvent, TransferArgs } from './chaos-wire.js';

/**
 * One mutation a crash-loop client issued, and what its `server` promise
 * said. Its `seq` stays 0 when only its journal line is known (its process
 * died inside `mutate`, or before the IPC message left) and no other call
 * of that incarnation tells it.
 */
export interface BookedMutation extends Omit<IssuedEvent, 'type'> {
  id: string;
  /** The commit LSN its `server` promise resolved with. */
  lsn?: number;
  rejected?: { code: string; message: string };
  /**
   * Its process was SIGKILLed before it settled: the outcome is unknown to
   * the loop (it may have been lost before it was stored, or be applied by a
   * later incarnation that restored it), so it is held to "at most once" and
   * to what the server's `last_seq` implies.
   */
  orphaned: boolean;
}

/** The server's document at one LSN, as read from its pages. */
export interface ServerState {
  lsn: number;
  /** `__quire_clients`: the last seq the server applied or rejected per client. */
  lastSeq: Map<string, number>;
  entries: Array<{ rowid: number; id: string; client_id: string; seq: number }>;
  transfers: Array<{ rowid: number; id: string; client_id: string; seq: number; payer: string; payee: string; amount: number }>;
  counters: Array<{ client_id: string; applied: number }>;
  accounts: Array<{ id: string; balance: number }>;
}

export const SERVER_STATE_QUERIES = [
  'SELECT client_id, last_seq FROM __quire_clients',
  'SELECT rowid, id, client_id, seq FROM entries ORDER BY rowid',
  'SELECT rowid, id, client_id, seq, payer, payee, amount FROM transfers ORDER BY rowid',
  'SELECT client_id, applied FROM counters ORDER BY client_id',
  'SELECT id, balance FROM accounts ORDER BY id',
];

export function serverState(lsn: number, results: unknown[][]): ServerState {
  const [clients, entries, transfers, counters, accounts] = results as [
    Array<{ client_id: string; last_seq: number }>,
    ServerState['entries'],
    ServerState['transfers'],
    ServerState['counters'],
    ServerState['accounts'],
  ];
  return { lsn, lastSeq: new Map(clients.map((c) => [c.client_id, c.last_seq])), entries, transfers, counters, accounts };
}

export interface Bank {
  accounts: readonly string[];
  /** Every account's balance after `init`. */
  balance: number;
}

/**
 * Every mutation the crash loop's clients issued, fed by their processes'
 * events, and the invariants the server's document must satisfy against it.
 */
export class MutationBook {
  private readonly byId = new Map<string, BookedMutation>();
  /** Events that make no sense (a settle for an unknown id, twice, an unexpected error); reported as violations. */
  private readonly anomalies: string[] = [];

  constructor(private readonly expectedRejection: string) {}

  onEvent(event: ChildEvent): void {
    if (event.type === 'issued') {
      const { proc, incarnation, clientId, n, seq, op, args } = event;
      const known = this.byId.get(args.id);
      if (known && known.clientId === clientId && known.incarnation === incarnation && (seq === 0 || known.seq === 0 || seq === known.seq)) {
        // The same mutation again: its journal line (seq 0) read after its process died, or its seq arriving late.
        if (seq > 0) known.seq = seq;
        return;
      }
      if (known) this.anomalies.push(`id ${args.id} issued twice`);
      this.byId.set(args.id, { id: args.id, proc, incarnation, clientId, n, seq, op, args, orphaned: false });
      return;
    }
    if (event.type !== 'settled') return;
    const m = this.byId.get(event.id);
    if (!m) return void this.anomalies.push(`settled unknown mutation ${event.id}`);
    if (m.lsn !== undefined || m.rejected) return void this.anomalies.push(`${m.id} settled twice`);
    if ('lsn' in event) m.lsn = event.lsn;
    else {
      m.rejected = { code: event.code, message: event.message };
      if (m.op !== 'transfer' || event.code !== this.expectedRejection) this.anomalies.push(`${m.op} ${m.id} rejected with ${event.code}: ${event.message}`);
    }
  }

  /**
   * A process was SIGKILLed (and its journal read): what its incarnation left
   * unsettled will never be heard of. Returns how many.
   */
  orphan(proc: string, incarnation: number): number {
    const mine = [...this.byId.values()].filter((m) => m.proc === proc && m.incarnation === incarnation);
    // Within an incarnation a client's calls take consecutive seqs, so one known seq tells the rest.
    for (const m of mine) {
      if (m.seq !== 0) continue;
      const known = mine.find((k) => k.clientId === m.clientId && k.seq !== 0);
      if (known) m.seq = known.seq + (m.n - known.n);
    }
    let count = 0;
    for (const m of mine) {
      if (m.orphaned || m.lsn !== undefined || m.rejected) continue;
      m.orphaned = true;
      count++;
    }
    return count;
  }

  stats(): { issued: number; confirmed: number; rejected: number; orphaned: number; open: number } {
    const all = [...this.byId.values()];
    const confirmed = all.filter((m) => m.lsn !== undefined).length;
    const rejected = all.filter((m) => m.rejected).length;
    const orphaned = all.filter((m) => m.orphaned).length;
    return { issued: all.length, confirmed, rejected, orphaned, open: all.length - confirmed - rejected - orphaned };
  }

  /** The highest commit LSN any `server` promise resolved with. */
  maxConfirmedLsn(): number {
    let max = 0;
    for (const m of this.byId.values()) if (m.lsn !== undefined && m.lsn > max) max = m.lsn;
    return max;
  }

  /**
   * Checks the server's document against everything issued, at a moment
   * when every live client has nothing pending. Returns the violations
   * (empty when all hold) and how many mutations and rows were checked.
   * `previous` is the set of row ids an earlier check saw: none may vanish.
   */
  check(state: ServerState, bank: Bank, otherClients: readonly string[], previous?: { lsn: number; ids: ReadonlySet<string> }): { violations: string[]; checked: number } {
    const violations = [...this.anomalies];
    const rowsById = new Map<string, number>();
    const rowsBySeq = new Map<string, string[]>();
    const note = (id: string, clientId: string, seq: number) => {
      rowsById.set(id, (rowsById.get(id) ?? 0) + 1);
      const key = `${clientId}#${seq}`;
      rowsBySeq.set(key, [...(rowsBySeq.get(key) ?? []), id]);
    };
    const lastSeq = (clientId: string) => state.lastSeq.get(clientId) ?? 0;

    // Every row names the one mutation that made it, as issued.
    for (const row of state.entries) {
      note(row.id, row.client_id, row.seq);
      const m = this.byId.get(row.id);
      if (!m) violations.push(`entry ${row.id} was never issued`);
      else if (m.op !== 'append' || m.clientId !== row.client_id || (m.seq !== 0 && m.seq !== row.seq)) violations.push(`entry ${row.id} ran as ${row.client_id}#${row.seq}, issued as ${m.op} ${m.clientId}#${m.seq}`);
      if (row.seq > lastSeq(row.client_id)) violations.push(`entry ${row.id} has seq ${row.seq} > last_seq ${lastSeq(row.client_id)}`);
    }
    for (const row of state.transfers) {
      note(row.id, row.client_id, row.seq);
      const m = this.byId.get(row.id);
      const args = m?.args as TransferArgs | undefined;
      if (!m || !args) violations.push(`transfer ${row.id} was never issued`);
      else if (m.op !== 'transfer' || m.clientId !== row.client_id || (m.seq !== 0 && m.seq !== row.seq) || args.payer !== row.payer || args.payee !== row.payee || args.amount !== row.amount) {
        violations.push(`transfer ${row.id} ran as ${JSON.stringify(row)}, issued as ${m.op} ${m.clientId}#${m.seq} ${JSON.stringify(args)}`);
      }
      if (row.seq > lastSeq(row.client_id)) violations.push(`transfer ${row.id} has seq ${row.seq} > last_seq ${lastSeq(row.client_id)}`);
    }
    // Exactly once: one row per mutation, one mutation per (client, seq).
    for (const [id, n] of rowsById) if (n > 1) violations.push(`${id} applied ${n} times`);
    for (const [key, ids] of rowsBySeq) if (ids.length > 1) violations.push(`${key} applied ${ids.length} times (${ids.join(', ')})`);

    // Each (client, seq) may have been issued more than once, by incarnations
    // of a client that died before a seq was stored; only the last can have reached the server.
    const latest = new Map<string, BookedMutation>();
    const seqsByClient = new Map<string, Set<number>>();
    const ranAs = new Map<string, number>();
    for (const row of [...state.entries, ...state.transfers]) ranAs.set(row.id, row.seq);
    for (const m of this.byId.values()) {
      if (!seqsByClient.has(m.clientId)) seqsByClient.set(m.clientId, new Set());
      if (m.seq === 0) {
        // Died inside `mutate`: if it was stored and sent, its row says which seq it had.
        if (ranAs.has(m.id)) seqsByClient.get(m.clientId)!.add(ranAs.get(m.id)!);
        continue;
      }
      const key = `${m.clientId}#${m.seq}`;
      const seen = latest.get(key);
      if (!seen || m.incarnation > seen.incarnation) latest.set(key, m);
      seqsByClient.get(m.clientId)!.add(m.seq);
    }
    for (const m of this.byId.values()) {
      const rows = rowsById.get(m.id) ?? 0;
      const processed = m.seq <= lastSeq(m.clientId);
      const what = `${m.op} ${m.id} (${m.clientId}#${m.seq}, last_seq ${lastSeq(m.clientId)})`;
      if (m.lsn !== undefined) {
        // Nothing acknowledged is lost, and it is there once.
        if (rows !== 1) violations.push(`${what} was confirmed at LSN ${m.lsn} but is in the document ${rows} times`);
        if (!processed) violations.push(`${what} was confirmed but the server's last_seq is below it`);
        if (m.lsn > state.lsn) violations.push(`${what} was confirmed at LSN ${m.lsn}, past the server's ${state.lsn}`);
      } else if (m.rejected) {
        // A refusal leaves no trace.
        if (rows !== 0) violations.push(`${what} was rejected (${m.rejected.code}) but is in the document ${rows} times`);
        if (!processed) violations.push(`${what} was rejected but the server's last_seq is below it`);
      } else if (!m.orphaned) {
        violations.push(`${what} is still unsettled although its client has nothing pending`);
      } else if (m.seq === 0) {
        // Stored or not before its process died: at most once, which the row counts above check.
      } else if (latest.get(`${m.clientId}#${m.seq}`) !== m || !processed) {
        if (rows !== 0) violations.push(`${what} died unsent (its seq was reused or never reached) but is in the document ${rows} times`);
      } else if (m.op === 'append' && rows !== 1) {
        // Its seq was reached and nobody else had it: the server applied this one.
        violations.push(`${what} died unsettled, the server settled its seq, yet it is in the document ${rows} times`);
      }
    }
    // Every seq the server settled was issued: nothing ran that nobody asked for.
    for (const [clientId, last] of state.lastSeq) {
      const seqs = seqsByClient.get(clientId);
      if (!seqs) {
        if (!otherClients.includes(clientId)) violations.push(`the server settled ${last} mutations of unknown client ${clientId}`);
        continue;
      }
      const unissued: number[] = [];
      for (let seq = 1; seq <= last; seq++) if (!seqs.has(seq)) unissued.push(seq);
      // A call whose seq nobody learned and that left no row (a refused transfer) may account for one.
      const unknown = [...this.byId.values()].filter((m) => m.clientId === clientId && m.seq === 0 && !ranAs.has(m.id)).length;
      if (unissued.length > unknown) violations.push(`the server settled seqs of ${clientId} that were never issued: ${unissued.slice(0, 10).join(', ')}`);
    }

    // The counters agree with the rows they count.
    const perClient = new Map<string, number>();
    for (const row of state.entries) perClient.set(row.client_id, (perClient.get(row.client_id) ?? 0) + 1);
    const counted = new Map(state.counters.map((c) => [c.client_id, c.applied]));
    for (const clientId of new Set([...perClient.keys(), ...counted.keys()])) {
      if ((perClient.get(clientId) ?? 0) !== (counted.get(clientId) ?? 0)) violations.push(`counter of ${clientId} says ${counted.get(clientId) ?? 0}, it has ${perClient.get(clientId) ?? 0} entries`);
    }

    // Money is conserved, balances are what the applied transfers make them, and no applied transfer overdrew.
    const expected = new Map(bank.accounts.map((a) => [a, bank.balance]));
    for (const t of state.transfers) {
      expected.set(t.payer, (expected.get(t.payer) ?? Number.NaN) - t.amount);
      expected.set(t.payee, (expected.get(t.payee) ?? Number.NaN) + t.amount);
      if (!(expected.get(t.payer)! >= 0)) violations.push(`transfer ${t.id} overdrew ${t.payer} to ${expected.get(t.payer)}`);
    }
    const actual = new Map(state.accounts.map((a) => [a.id, a.balance]));
    for (const account of new Set([...expected.keys(), ...actual.keys()])) {
      if (expected.get(account) !== actual.get(account)) violations.push(`account ${account} holds ${actual.get(account)}, its transfers make ${expected.get(account)}`);
    }
    const total = state.accounts.reduce((sum, a) => sum + a.balance, 0);
    if (total !== bank.accounts.length * bank.balance) violations.push(`the bank holds ${total}, not ${bank.accounts.length * bank.balance}`);

    // Nothing that was once in the document disappears.
    if (previous) {
      if (state.lsn < previous.lsn) violations.push(`the server went back from LSN ${previous.lsn} to ${state.lsn}`);
      const lost = [...previous.ids].filter((id) => !rowsById.has(id));
      if (lost.length > 0) violations.push(`${lost.length} rows seen at LSN ${previous.lsn} are gone: ${lost.slice(0, 10).join(', ')}`);
    }
    return { violations, checked: this.byId.size + state.entries.length + state.transfers.length };
  }
}

/** Ids of every row of the ledger and the bank, for the next check's "nothing vanished". */
export function rowIds(state: ServerState): Set<string> {
  return new Set([...state.entries.map((r) => r.id), ...state.transfers.map((r) => r.id)]);
}
