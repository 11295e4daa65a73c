import type { PageDigest } from './page-digest.js';

/**
 * What the crash loop and its client processes say to each other over the
 * IPC channel. Events flow child → parent as they happen; requests are
 * parent → child with one reply each. A SIGKILLed child can take unsent
 * events with it, so every call is also journaled to a file before it can
 * be stored or sent, and the loop reads the journal of a process it killed.
 */

/** How a client process is started (JSON in argv[2]). */
export interface ClientProcessConfig {
  /** Names this process in ids and messages, e.g. `p1`. */
  name: string;
  url: string;
  docId: string;
  /** Starts at 0 and grows by one each time the process is restarted after a SIGKILL. */
  incarnation: number;
  seed: number;
  accounts: string[];
  /** Where every `issued` event is first appended (one JSON per line, seq 0), before the mutation is stored or sent. */
  journalPath: string;
  /** Issue nothing until `resume`. */
  paused: boolean;
  clients: ClientSpec[];
}

export interface ClientSpec {
  clientId: string;
  /** A FileStore path: the client keeps its id and pending mutations across restarts of the process. */
  storePath?: string;
}

export type MutationOp = 'append' | 'transfer';
export type AppendArgs = { id: string; padBytes: number };
export type TransferArgs = { id: string; payer: string; payee: string; amount: number };

/** A mutation a client called, before its outcome is known. */
export interface IssuedEvent {
  type: 'issued';
  proc: string;
  incarnation: number;
  clientId: string;
  /** 1, 2, 3, … per client and incarnation, in call order (so seqs follow n one for one). */
  n: number;
  /** 0 in the journal, written before `mutate` assigned it. */
  seq: number;
  op: MutationOp;
  args: AppendArgs | TransferArgs;
}

export type ChildEvent =
  | { type: 'ready' }
  | IssuedEvent
  /** The mutation's `server` promise settled: resolved with a commit LSN, or rejected with an error code. */
  | { type: 'settled'; id: string; lsn: number }
  | { type: 'settled'; id: string; code: string; message: string }
  | { type: 'reply'; requestId: number; ok: true; value: unknown }
  | { type: 'reply'; requestId: number; ok: false; error: string };

export type Request = { requestId: number; type: 'pause' | 'resume' | 'status' | 'digest' | 'close' };

/** One client's view, for quiescence and monotonic reads. */
export interface ClientStatus {
  clientId: string;
  connection: string;
  pending: number;
  lsn: number;
  durableLsn: number;
  /** The highest LSN `status().durableLsn` ever showed in this incarnation. */
  maxLsn: number;
  /** Every time `status().durableLsn` went down, as `from->to`. */
  backwards: string[];
  /** Handles of this incarnation whose `server` promise has not settled. */
  unsettled: number;
  issued: number;
  /** `code: message` of the last error the client saw (a store failure shows here too). */
  lastError: string | undefined;
}

export interface ClientDigest {
  clientId: string;
  digest: PageDigest;
}
