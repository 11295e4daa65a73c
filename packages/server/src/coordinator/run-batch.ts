import type Database from 'better-sqlite3';
import type { Reducers, Tx } from '@quire/core';
import { CLIENTS_TABLE, errorCode, errorMessage, prepareCall, reducerTx } from '@quire/core/internal';
import { MAX_REJECTION_CODE, MAX_REJECTION_MESSAGE, type RejectionRecord } from '../log/commit-log.js';
import { updateRequired } from '../app-versions.js';
import type { QueuedMutation } from './queued-mutation.js';
import type { ServerTx } from './server-tx.js';

/** A code callers can match on and the log can hold: a short identifier. */
const REJECTION_CODE = new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_REJECTION_CODE}}$`);

export interface BatchResult {
  /** Rejections, in queue order. */
  rejections: RejectionRecord[];
  /** The highest seq settled per client. */
  settled: Array<{ clientId: string; lastSeq: number }>;
  /** One entry per mutation, in queue order: undefined if applied, else its rejection. */
  outcomes: Array<RejectionRecord | undefined>;
}

/**
 * Runs one mutation's reducer (`run`). The coordinator passes one that times
 * reducers and refuses clients whose reducers ran too long (ReducerTimeLimit);
 * what it throws rejects the mutation like a reducer error.
 */
export type ReducerRunner = (mutation: QueuedMutation, run: () => void) => void;

/**
 * Applies a batch in one transaction (group commit). Each mutation runs in
 * its own savepoint, so a reducer that throws rolls back alone. Each
 * client's `last_seq` is written in the same transaction, so the
 * acknowledgement is atomic with the effects and travels with the pages.
 */
export function runBatch(db: Database.Database, serverTx: ServerTx, reducers: Reducers, batch: readonly QueuedMutation[], runReducer: ReducerRunner = (_, run) => run()): BatchResult {
  const tx = reducerTx(serverTx);
  const result: BatchResult = { rejections: [], settled: [], outcomes: [] };
  const lastSeq = new Map<string, number>();
  const sql = statementsOf(db);
  sql.begin.run();
  try {
    for (const m of batch) {
      const rejection = applyOne(db, sql, tx, reducers, m, runReducer);
      result.outcomes.push(rejection);
      if (rejection) result.rejections.push(rejection);
      if (m.seq > 0) lastSeq.set(m.clientId, m.seq);
    }
    for (const [clientId, seq] of lastSeq) {
      sql.upsertLastSeq.run(clientId, seq);
      result.settled.push({ clientId, lastSeq: seq });
    }
    sql.commit.run();
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
  return result;
}

/** The statements every batch runs, prepared once per database: `exec` parses its SQL on every call. */
interface BatchStatements {
  begin: Database.Statement;
  commit: Database.Statement;
  savepoint: Database.Statement;
  release: Database.Statement;
  rollbackTo: Database.Statement;
  upsertLastSeq: Database.Statement;
}

const prepared = new WeakMap<Database.Database, BatchStatements>();

function statementsOf(db: Database.Database): BatchStatements {
  let statements = prepared.get(db);
  if (!statements) {
    statements = {
      // Deferred, not IMMEDIATE: IMMEDIATE opens a write transaction on every attached database, and on the empty server.lock that writes a first page (see DocumentLock.moveTo). The coordinator is the volume's only writer, so nothing is lost by waiting for the first write.
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      savepoint: db.prepare('SAVEPOINT quire_mutation'),
      release: db.prepare('RELEASE quire_mutation'),
      rollbackTo: db.prepare('ROLLBACK TO quire_mutation'),
      upsertLastSeq: db.prepare(`INSERT INTO ${CLIENTS_TABLE} (client_id, last_seq) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET last_seq = excluded.last_seq`),
    };
    prepared.set(db, statements);
  }
  return statements;
}

function applyOne(db: Database.Database, sql: BatchStatements, tx: Tx, reducers: Reducers, m: QueuedMutation, runReducer: ReducerRunner): RejectionRecord | undefined {
  const reject = (error: unknown): RejectionRecord => ({ clientId: m.clientId, seq: m.seq, ...rejectionOf(m.name, error) });
  // A call from an older app version whose reducer is gone: the client must update, not just fix a name.
  const outdated = updateRequired(reducers, m);
  if (outdated) return reject(outdated);
  let call;
  try {
    call = prepareCall(reducers, m.name, m.argsJson);
  } catch (error) {
    return reject(error);
  }
  sql.savepoint.run();
  try {
    runReducer(m, () => call.run(tx, { clientId: m.clientId, seq: m.seq, userId: m.userId }));
    sql.release.run();
    return undefined;
  } catch (error) {
    if (!db.inTransaction) throw new Error(`reducer "${m.name}" ended the batch transaction — reducers must not run BEGIN, COMMIT or ROLLBACK`, { cause: error });
    sql.rollbackTo.run();
    sql.release.run();
    return reject(error);
  }
}

/**
 * The code and message a failed call is rejected with. A code that is not a
 * short identifier (a reducer's own QuireError can carry anything) becomes
 * `invalid_error_code`, keeping the reducer's message: the rejection goes
 * into the commit log and to its client.
 */
export function rejectionOf(reducer: string, error: unknown): { code: string; message: string } {
  const code: unknown = errorCode(error);
  const message = errorMessage(error);
  if (typeof code === 'string' && REJECTION_CODE.test(code)) return { code, message: capRejectionMessage(message) };
  const shown = typeof code === 'string' ? `${JSON.stringify(code.slice(0, 32))}${code.length > 32 ? '…' : ''}, ${code.length} characters` : typeof code;
  return {
    code: 'invalid_error_code',
    message: capRejectionMessage(
      `reducer "${reducer}" threw an error whose code (${shown}) is not 1 to ${MAX_REJECTION_CODE} letters, digits, "_", ".", ":" or "-" — give its QuireError such a code. The reducer's message: ${message}`,
    ),
  };
}

/** Cuts a message to MAX_REJECTION_MESSAGE, ending in "…" where it was cut. */
export function capRejectionMessage(message: string): string {
  if (message.length <= MAX_REJECTION_MESSAGE) return message;
  let end = MAX_REJECTION_MESSAGE - 1;
  // Not between the two halves of a surrogate pair.
  const last = message.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${message.slice(0, end)}…`;
}
